"""``optbus demo`` end to end, as a user runs it, against our own servers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest

from ..conftest import fresh_database, migrated_nats

pytestmark = pytest.mark.e2e

MINUTES = 60
"""Long enough for the demo's strategies to open and close a trade on ``SESSION``."""
SESSION = "2026-06-01"


@pytest.fixture(scope="module")
def demo_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A bus of the demo's own: no kill switch or position left by another test."""
    with migrated_nats(tmp_path_factory.mktemp("demo-nats")) as server:
        yield server.url


@pytest.fixture(scope="module")
def demo_database(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, f"optbus_demo_test_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="module")
def demo_run(demo_nats: str, demo_database: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"NATS_URL": demo_nats, "DATABASE_URL": demo_database, "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "optbus_cli.main", "demo", "--minutes", str(MINUTES),
         "--speed", "max", "--start-date", SESSION],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_the_demo_exits_successfully(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert demo_run.returncode == 0, demo_run.stdout + demo_run.stderr


def test_the_demo_prints_its_summary(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert "optbus demo summary" in demo_run.stdout
    assert "all snapshots priced and stored" in demo_run.stdout


def test_the_demo_at_maximum_speed_fills_orders(
    demo_run: subprocess.CompletedProcess[str], demo_database: str
) -> None:
    with psycopg.connect(demo_database) as conn:
        (fills,) = conn.execute("SELECT count(*) FROM fills").fetchone()  # type: ignore[misc]

    assert fills > 0


def test_the_demo_at_maximum_speed_closes_trades(
    demo_run: subprocess.CompletedProcess[str], demo_database: str
) -> None:
    with psycopg.connect(demo_database) as conn:
        (trades,) = conn.execute("SELECT count(*) FROM trades").fetchone()  # type: ignore[misc]

    assert trades > 0


def test_no_order_of_the_demo_is_rejected_for_a_stale_quote(
    demo_run: subprocess.CompletedProcess[str], demo_database: str
) -> None:
    with psycopg.connect(demo_database) as conn:
        (stale,) = conn.execute(
            "SELECT count(*) FROM events WHERE type = 'exec.order.rejected' "
            "AND payload ->> 'reason' LIKE 'stale quote%'"
        ).fetchone()  # type: ignore[misc]

    assert stale == 0


def test_the_demo_stores_chains_for_every_simulated_second(
    demo_run: subprocess.CompletedProcess[str], demo_database: str
) -> None:
    with psycopg.connect(demo_database) as conn:
        steps, chains = conn.execute(
            "SELECT count(DISTINCT time), count(*) FROM events WHERE type = 'md.chain'"
        ).fetchone()  # type: ignore[misc]

    assert steps == MINUTES * 60
    assert chains % steps == 0


def test_the_demo_stores_every_option_of_every_chain(
    demo_run: subprocess.CompletedProcess[str], demo_database: str
) -> None:
    with psycopg.connect(demo_database) as conn:
        (options,) = conn.execute(
            "SELECT sum(jsonb_array_length(payload -> 'strikes') * 2) FROM events "
            "WHERE type = 'md.chain'"
        ).fetchone()  # type: ignore[misc]
        (rows,) = conn.execute("SELECT count(*) FROM option_ticks").fetchone()  # type: ignore[misc]

    assert rows == options > 0


def test_status_after_the_demo_shows_streams_kill_switch_and_positions(
    demo_run: subprocess.CompletedProcess[str], demo_nats: str, demo_database: str
) -> None:
    env = os.environ | {"NATS_URL": demo_nats, "DATABASE_URL": demo_database, "COLUMNS": "200"}

    status = subprocess.run(
        [sys.executable, "-m", "optbus_cli.main", "status"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert status.returncode == 0, status.stderr
    for part in ("ANALYTICS", "kill switch: released", "Open positions", "option_ticks"):
        assert part in status.stdout
