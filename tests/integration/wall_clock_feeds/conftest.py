"""Broker feeds quoting on the wall clock, each test module on a bus and a database of its own:
their chains fall on today's date, which other tests' simulated sessions may use too."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import migrated_database, migrated_nats


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A bus of this module's own."""
    with migrated_nats(tmp_path_factory.mktemp("nats")) as server:
        yield server.url


@pytest.fixture(scope="module")
def database_url(postgres_admin_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of this module's own."""
    module = request.module.__name__.rpartition(".")[2]
    with migrated_database(postgres_admin_url, f"optbus_{module}_{os.getpid()}") as url:
        yield url
