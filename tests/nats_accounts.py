"""A nats-server of a test's own with the users deploy/nats/generate_accounts.py makes, each
logging in with an nkey of its own, and the bytes the NATS CLI sends for `nats pub`."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nkeys
from nats.aio.client import Client

from optbus.runtime.nats_security import NatsSecurity, connect
from optbus_cli.servers import LocalNats
from tests.scripts import load_script

DEPLOY_NATS = Path(__file__).resolve().parents[1] / "deploy" / "nats"


@dataclass(frozen=True)
class AccountsServer:
    """The server, and the seed files of its users (``<user>.nk`` in ``seeds``)."""

    server: LocalNats
    seeds: Path
    ca_file: Path | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def security_of(self, user: str) -> NatsSecurity:
        """How ``user`` logs in (its seed file; the CA, when the server has TLS)."""
        return NatsSecurity(nkey_seed_file=self.seeds / f"{user}.nk", ca_file=self.ca_file)

    async def connect_as(self, user: str) -> Client:
        return await connect(self.url, self.security_of(user), max_reconnect_attempts=0)


def make_tls(directory: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1 in ``directory``, made by deploy/make-tls.sh
    as deploy/make-env.sh makes them; returns the directory."""
    script = DEPLOY_NATS.parent / "make-tls.sh"
    subprocess.run(["bash", str(script), str(directory), "127.0.0.1", "localhost"],
                   check=True, capture_output=True)  # fmt: skip
    return directory


@contextlib.contextmanager
def accounts_nats(
    directory: Path, operators: tuple[str, ...] | None = None, tls: Path | None = None
) -> Iterator[AccountsServer]:
    """A server with the generated accounts (``operators`` named, else those of operators.txt),
    the public keys the generator made for them as the config's own variables, so the file is
    the generator's text as is. With ``tls`` (a directory ``make_tls`` made), the server
    requires TLS of every client, with that certificate, as deploy/nats/nats-server.conf does."""
    generator = load_script(DEPLOY_NATS / "generate_accounts.py")
    users = generator.users(operators)
    seeds = directory / "nkeys"
    keys = "".join(
        f"{line.replace('=', ': ', 1)}\n" for line in generator.write_nkeys(seeds, users)
    )
    certificate = (
        f'tls: {{ cert_file: "{tls / "server.pem"}", key_file: "{tls / "server-key.pem"}" }}\n'
        if tls
        else ""
    )
    config = directory / "accounts-server.conf"
    config.write_text(keys + certificate + generator.render(users), encoding="utf-8")
    server = LocalNats(directory / "nats", args=("-c", str(config))).start()
    try:
        yield AccountsServer(server, seeds, tls / "ca.pem" if tls else None)
    finally:
        server.stop()


def nats_pub(port: int, subject: str, body: bytes, seed_file: Path | None = None) -> None:
    """Exactly the protocol bytes the NATS CLI sends for `nats pub SUBJECT BODY` (logged in
    with the nkey of ``seed_file`` when given, as `nats --nkey FILE` signs the server's nonce)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        reader = sock.makefile("rb")
        info = reader.readline()
        assert info.startswith(b"INFO ")
        login = {}
        if seed_file is not None:
            key = nkeys.from_seed(seed_file.read_bytes().strip())
            nonce = json.loads(info[5:])["nonce"].encode()
            login = {
                "nkey": key.public_key.decode(),
                "sig": base64.b64encode(key.sign(nonce)).decode(),
            }
        connect_options = {"verbose": False, "pedantic": False, "tls_required": False,
                           "name": "NATS CLI Version 0.2.2", "lang": "go", "version": "1.41.1",
                           "protocol": 1, "echo": True, "headers": True, "no_responders": True,
                           **login}  # fmt: skip
        sock.sendall(b"CONNECT " + json.dumps(connect_options).encode() + b"\r\n")
        sock.sendall(b"PUB " + subject.encode() + b" " + str(len(body)).encode() + b"\r\n")
        sock.sendall(body + b"\r\nPING\r\n")
        assert reader.readline() == b"PONG\r\n"
