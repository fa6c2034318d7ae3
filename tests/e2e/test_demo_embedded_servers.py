"""``optbus demo`` with neither NATS nor PostgreSQL answering: it brings its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from optbus_cli.servers import LocalPostgres, free_port

pytestmark = pytest.mark.e2e

NOTHING_LISTENS = "127.0.0.1:9"


@pytest.fixture(scope="module")
def embedded_run() -> Iterator[subprocess.CompletedProcess[str]]:
    state = Path("/var/tmp") / f"optbus-e2e-state-{os.getpid()}"
    port = free_port()
    env = os.environ | {
        "NATS_URL": f"nats://{NOTHING_LISTENS}",
        "DATABASE_URL": f"postgresql://postgres@{NOTHING_LISTENS}/optbus",
        "OPTBUS_STATE_DIR": str(state),
        "OPTBUS_LOCAL_PG_PORT": str(port),
        "COLUMNS": "200",
    }
    try:
        yield subprocess.run(
            [sys.executable, "-m", "optbus_cli.main", "demo", "--minutes", "1", "--speed", "max"],
            env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    finally:
        if (state / "postgres" / "postmaster.pid").exists():
            LocalPostgres(state / "postgres", port=port).stop()
        shutil.rmtree(state, ignore_errors=True)


def test_the_demo_starts_an_embedded_nats_server_when_none_answers(
    embedded_run: subprocess.CompletedProcess[str],
) -> None:
    assert "started an embedded nats-server" in embedded_run.stdout


def test_the_demo_starts_a_local_postgresql_when_none_answers(
    embedded_run: subprocess.CompletedProcess[str],
) -> None:
    assert "a local server runs at" in embedded_run.stdout


def test_the_demo_on_its_own_servers_prices_and_stores_every_snapshot(
    embedded_run: subprocess.CompletedProcess[str],
) -> None:
    assert embedded_run.returncode == 0, embedded_run.stdout + embedded_run.stderr
    assert "all snapshots priced and stored" in embedded_run.stdout
