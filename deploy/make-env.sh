#!/usr/bin/env bash
# Write deploy/.env (fresh random passwords for PostgreSQL and Grafana, and the public nkey of
# every NATS user), deploy/nkeys/ (each NATS user's nkey seed, one file each) and deploy/tls/ (a
# private CA and the NATS server's certificate, deploy/make-tls.sh). All are git-ignored and
# private to you (the directories are mode 700; a container's user reads the files it mounts).
# It also writes the Alertmanager receivers' settings, empty, for you to fill in.
# Compose reads .env from this directory. Hex passwords need no escaping inside DATABASE_URL.
# The nkeys come from the repository's environment (`make setup` first): the nkeys library and
# the users of deploy/nats/generate_accounts.py, including the operators of operators.txt.
set -euo pipefail
cd "$(dirname "$0")"
if [[ -e .env || -e nkeys || -e tls ]]; then
    echo "deploy/.env, nkeys/ or tls/ exists already: delete them first to make new ones" >&2
    echo "(a new POSTGRES/OPTBUS_*_DB password needs a new database volume too)" >&2
    exit 1
fi
secret() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
umask 077
{
    echo "POSTGRES_PASSWORD=$(secret)"
    echo "OPTBUS_MIGRATOR_DB_PASSWORD=$(secret)"
    echo "OPTBUS_PERSISTENCE_DB_PASSWORD=$(secret)"
    echo "OPTBUS_TRAINER_DB_PASSWORD=$(secret)"
    echo "OPTBUS_GRAFANA_DB_PASSWORD=$(secret)"
    echo "GRAFANA_ADMIN_PASSWORD=$(secret)"
    echo "NATS_ROUTE_PASSWORD=$(secret)"
    ../.tools/bin/uv run --frozen python nats/generate_accounts.py --nkeys nkeys
    echo "# Where alerts go (docs/operations.md, \"Alerts\"): Alertmanager will not start until"
    echo "# every one is set. Values may not hold a double quote, a backslash or a line break."
    for receiver in WEBHOOK_URL TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID SMTP_SMARTHOST SMTP_FROM \
        SMTP_USERNAME SMTP_PASSWORD EMAIL_TO; do
        echo "ALERTMANAGER_${receiver}="
    done
} > .env
echo "wrote deploy/.env and the nkey seeds in deploy/nkeys/"
# The names clients reach the NATS servers by: compose's three servers, the operator's
# published port, and Kubernetes' Service and StatefulSet pods (namespace nats, as
# nats-cluster.conf; compose's servers carry the pods' names too, for the routes).
./make-tls.sh tls nats nats-0 nats-1 nats-2 localhost 127.0.0.1 \
    nats.nats.svc nats.nats.svc.cluster.local \
    '*.nats-headless.nats.svc' '*.nats-headless.nats.svc.cluster.local' \
    nats-headless.nats.svc nats-headless.nats.svc.cluster.local
