"""A nats-server of a test's own with the users deploy/nats/generate_accounts.py makes, and the
bytes the NATS CLI sends for `nats pub`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
from nats.aio.client import Client

from optbus_cli.servers import LocalNats
from tests.scripts import load_script

DEPLOY_NATS = Path(__file__).resolve().parents[1] / "deploy" / "nats"
PASSWORD = "not-a-secret"


@dataclass(frozen=True)
class AccountsServer:
    """The server, and how each user of its accounts logs in (every password ``PASSWORD``)."""

    server: LocalNats

    def url_as(self, user: str) -> str:
        """``NATS_URL`` for ``user``."""
        return self.server.url.replace("//", f"//{user}:{PASSWORD}@")

    async def connect_as(self, user: str) -> Client:
        """A connection as ``user``, retried while the server starts."""
        async with asyncio.timeout(15.0):
            while True:
                with contextlib.suppress(Exception):
                    return await nats.connect(self.url_as(user), max_reconnect_attempts=0)
                await asyncio.sleep(0.1)


@contextlib.contextmanager
def accounts_nats(
    directory: Path, operators: tuple[str, ...] | None = None
) -> Iterator[AccountsServer]:
    """A server with the generated accounts (``operators`` named, else those of operators.txt);
    the passwords are the config's own variables, so the file is the generator's text as is."""
    generator = load_script(DEPLOY_NATS / "generate_accounts.py")
    users = generator.users(operators)
    config = directory / "accounts-server.conf"
    passwords = "".join(f'{user.password_env}: "{PASSWORD}"\n' for user in users)
    config.write_text(passwords + generator.render(users), encoding="utf-8")
    server = LocalNats(directory / "nats", args=("-c", str(config))).start()
    try:
        yield AccountsServer(server)
    finally:
        server.stop()


def nats_pub(port: int, subject: str, body: bytes, user: str | None = None) -> None:
    """Exactly the protocol bytes the NATS CLI sends for `nats pub SUBJECT BODY` (as ``user``,
    with ``PASSWORD``, when given)."""
    login = {"user": user, "pass": PASSWORD} if user else {}
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"INFO ")
        connect = {"verbose": False, "pedantic": False, "tls_required": False,
                   "name": "NATS CLI Version 0.2.2", "lang": "go", "version": "1.41.1",
                   "protocol": 1, "echo": True, "headers": True, "no_responders": True,
                   **login}  # fmt: skip
        sock.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\n")
        sock.sendall(b"PUB " + subject.encode() + b" " + str(len(body)).encode() + b"\r\n")
        sock.sendall(body + b"\r\nPING\r\n")
        assert reader.readline() == b"PONG\r\n"
