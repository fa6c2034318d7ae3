"""Servers of the fault tests' own, which the tests stop and kill."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

import pytest

from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.servers import LOOPBACK, Host, LocalNats, LocalPostgres, create_database
from optbus_persistence.schema import migrate

_clusters = count()


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[LocalNats]:
    server = LocalNats(tmp_path / "nats").start()
    asyncio.run(migrate_bus(server.url))
    yield server
    server.kill()


@contextmanager
def postgres_of_our_own(host: Host = LOOPBACK) -> Iterator[tuple[LocalPostgres, str]]:
    """A migrated PostgreSQL cluster of a test's own on ``host`` (its data where the postgres
    user may write), and the URL of its database, stopped and deleted afterwards."""
    data_dir = Path("/var/tmp") / f"optbus-fault-pg-{os.getpid()}-{next(_clusters)}"
    server = LocalPostgres(data_dir, host=host).start()
    try:
        create_database(server.admin_url, "optbus")
        migrate(server.url("optbus"))
        yield server, server.url("optbus")
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[tuple[LocalPostgres, str]]:
    with postgres_of_our_own() as server_and_url:
        yield server_and_url
