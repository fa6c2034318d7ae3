"""Real servers for integration and end-to-end tests.

A nats-server of our own on a free port, and a fresh PostgreSQL database on DATABASE_URL's
server, else the local one, else a cluster these tests start.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
import psycopg
import pytest
from nats.aio.client import Client

from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.servers import LocalNats, LocalPostgres, create_database, postgres_answers
from optbus_persistence.schema import StorageMode, migrate

LOCAL_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured.rsplit("/", 1)[0] + "/postgres"
    return LOCAL_ADMIN_URL


@contextmanager
def migrated_nats(store_dir: Path) -> Iterator[LocalNats]:
    """A nats-server of a test's own, migrated as compose and Kubernetes migrate theirs before
    the services start (``optbus bus migrate``): the services only check the streams."""
    server = LocalNats(store_dir).start()
    try:
        asyncio.run(migrate_bus(server.url))
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[LocalNats]:
    """A migrated nats-server of the test's own, for a test that changes or breaks the bus."""
    with migrated_nats(tmp_path) as server:
        yield server


@pytest.fixture
async def own_nc(own_nats: LocalNats) -> AsyncIterator[Client]:
    """A client of the test's own nats-server."""
    client = await nats.connect(own_nats.url)
    yield client
    await client.close()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's migrated nats-server."""
    with migrated_nats(tmp_path_factory.mktemp("nats")) as server:
        yield server.url


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    admin = _admin_url()
    if postgres_answers(admin):
        yield admin
        return
    data_dir = Path("/var/tmp") / f"optbus-test-pg-{os.getpid()}"
    server = LocalPostgres(data_dir).start()
    yield server.admin_url
    server.stop()


@contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    """A new empty database on the admin URL's server, dropped afterwards."""
    create_database(admin_url, name, fresh=True)
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def migrated_database(admin_url: str, name: str) -> Iterator[str]:
    """A new migrated database on the admin URL's server, dropped afterwards."""
    with fresh_database(admin_url, name) as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def storage(postgres_admin_url: str) -> Iterator[tuple[str, StorageMode]]:
    """A fresh, migrated database for the whole test session, and the storage mode it uses."""
    with fresh_database(postgres_admin_url, f"optbus_test_{os.getpid()}") as url:
        mode = migrate(url)
        print(f"\nstorage under test: {mode.value} ({url})")
        yield url, mode


@pytest.fixture(scope="session")
def database_url(storage: tuple[str, StorageMode]) -> str:
    return storage[0]
