#!/usr/bin/env bash
# Make a private CA and one certificate for the NATS servers, signed by it, in DIR:
#   ca.pem          the CA: every client trusts it (OPTBUS_NATS_CA_FILE), routes check peers by it
#   ca-key.pem      the CA's key: keep it offline, to sign a new server certificate later
#   server.pem      the servers' certificate (for serving clients and for routes, both ways)
#   server-key.pem  its key (the server's alone)
# The certificate names every NAME given: DNS names (wildcards such as *.nats-headless.nats.svc
# too) or IP addresses. A client checks that the server it reached carries its address's name.
#   deploy/make-tls.sh DIR NAME...
# deploy/make-env.sh calls it with the compose and Kubernetes names; tests call it for
# 127.0.0.1. Needs openssl.
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 DIR NAME..." >&2
    exit 2
fi
dir=$1
shift
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077
names=()
for name in "$@"; do
    if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then names+=("IP:$name"); else names+=("DNS:$name"); fi
done
san=$(IFS=,; echo "${names[*]}")
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days 3650 -subj "/CN=optbus NATS CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem
key server-key.pem
openssl req -new -key server-key.pem -subj "/CN=$1" -out server.csr
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n' \
    "$san" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 \
    -days 825 -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
# the certificates are public; a client's container user reads ca.pem from a private directory
chmod 644 ca.pem server.pem
echo "wrote $dir: ca.pem, ca-key.pem, server.pem, server-key.pem for $san"
