"""The schema on a real TimescaleDB, where a Docker engine can run one."""

from __future__ import annotations

import pytest

from optbus_persistence.schema import StorageMode, migrate

pytestmark = pytest.mark.integration


def _docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


@pytest.mark.skipif(
    not _docker_engine_answers(),
    reason="no Docker engine: TimescaleDB not exercised here (plain PostgreSQL is)",
)
def test_migrating_a_timescaledb_database_makes_hypertables() -> None:
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("timescale/timescaledb:latest-pg16", driver=None) as container:
        url = container.get_connection_url()

        mode = migrate(url)

        assert mode is StorageMode.TIMESCALEDB
        assert migrate(url) is StorageMode.TIMESCALEDB


def test_migrating_twice_keeps_the_storage_mode(database_url: str) -> None:
    assert migrate(database_url) is migrate(database_url)
