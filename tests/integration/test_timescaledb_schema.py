"""The schema on a real TimescaleDB, where a Docker engine can run one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from optbus_persistence.schema import StorageMode, migrate

pytestmark = pytest.mark.integration

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"


def timescaledb_image() -> str:
    """The pinned image compose (and Kubernetes, a test checks) runs: the schema is tested on
    the TimescaleDB that production runs, not whatever `latest` is today."""
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    image: str = compose["services"]["postgres"]["image"]
    return image


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

    with PostgresContainer(timescaledb_image(), driver=None) as container:
        url = container.get_connection_url()

        mode = migrate(url)

        assert mode is StorageMode.TIMESCALEDB
        assert migrate(url) is StorageMode.TIMESCALEDB


def test_migrating_twice_keeps_the_storage_mode(database_url: str) -> None:
    assert migrate(database_url) is migrate(database_url)
