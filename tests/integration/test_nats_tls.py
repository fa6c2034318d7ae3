"""Client TLS: a nats-server of the test's own with a CA and a certificate made by
deploy/make-tls.sh (as deploy/make-env.sh makes them) and the generated nkey users accepts a
service that trusts the CA, and refuses a plain client and one that trusts another CA."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from optbus.runtime.nats_security import NatsSecurity, connect
from optbus.runtime.service import ServiceRunner
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_greeks.main import GreeksSettings, build_app
from tests.nats_accounts import AccountsServer, accounts_nats, make_tls

from .conftest import RunningService

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AccountsServer]:
    with accounts_nats(tmp_path, tls=make_tls(tmp_path / "tls")) as server:
        yield server


async def test_a_service_that_trusts_the_ca_connects_and_starts(server: AccountsServer) -> None:
    await migrate_bus(server.url, security=server.security_of("migrator"))
    settings = GreeksSettings(nats_url=server.url, nats_security=server.security_of("greeks"),
                              http_port=0)  # fmt: skip

    greeks = await RunningService(ServiceRunner(build_app(settings), settings)).ready()

    await greeks.stop()


def test_a_plain_client_is_refused(server: AccountsServer) -> None:
    with socket.create_connection(("127.0.0.1", server.server.port), timeout=5) as sock:
        reader = sock.makefile("rb")
        assert b'"tls_required":true' in reader.readline()
        sock.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')

        assert reader.readline() == b"", "no PONG: the server closes a connection without TLS"


async def test_a_client_that_trusts_another_ca_is_refused(
    server: AccountsServer, tmp_path: Path
) -> None:
    another = make_tls(tmp_path / "another")
    untrusting = NatsSecurity(
        nkey_seed_file=server.security_of("greeks").nkey_seed_file, ca_file=another / "ca.pem"
    )

    with pytest.raises(ssl.SSLCertVerificationError):
        await connect(server.url, untrusting, allow_reconnect=False, connect_timeout=2)
