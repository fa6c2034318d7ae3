"""``optbus backtest`` against PostgreSQL: runs stored and replaced, compared, and a window
of recorded events in the database as the source."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from optbus.codec import encode
from optbus.market import load_market_facts
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import run_backtest
from optbus_cli.main import app
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore

from ..conftest import fresh_database
from .conftest import simulated_steps

pytestmark = pytest.mark.integration

DAY = date(2026, 12, 17)
RECORDED_STEPS = 6 * 60  # trading starts five minutes after the open
NO_DATABASE = "postgresql://postgres@127.0.0.1:1/nothing"


@pytest.fixture(scope="module")
def database(postgres_admin_url: str) -> Iterator[str]:
    """A migrated database holding six minutes of recorded market events."""
    steps = simulated_steps(DAY, RECORDED_STEPS, "it-backtest")
    events = [event for step in steps for event in step]
    with fresh_database(postgres_admin_url, f"optbus_backtest_test_{os.getpid()}") as url:
        migrate(url)
        store = EventStore(url)
        store.write([decode_stored(BusMessage("MD", seq, "md.x", encode(e), e.ts_event, None))
                     for seq, e in enumerate(events, start=1)])  # fmt: skip
        store.close()
        yield url


def _backtest(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["backtest", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def _simulated(database_url: str, run_id: str, out: Path, *more: str) -> tuple[int, str]:
    return _backtest("--minutes", "2", "--run-id", run_id, "--out-dir", str(out),
                     "--database-url", database_url, *more)  # fmt: skip


def _one(database_url: str, sql: str, *params: object) -> tuple[object, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return tuple(row)


QUICK_STRANGLE = """
[[strategy]]
name = "quick_strangle"
kind = "short_strangle"
underlyings = ["NIFTY"]
[strategy.params]
min_score = 0.0
entry_after_open_minutes = 0.0
max_holding_minutes = 0.5
cooldown_seconds = 30.0
"""


def test_a_run_is_stored_with_its_trade_log_hash_and_its_trades(
    database: str, tmp_path: Path
) -> None:
    strategies = tmp_path / "quick.toml"
    strategies.write_text(QUICK_STRANGLE, encoding="utf-8")

    code, output = _backtest(
        "--from", f"{DAY}T00:00:00", "--to", f"{DAY}T23:59:59", "--run-id", "it-stored",
        "--strategies", str(strategies), "--out-dir", str(tmp_path), "--database-url", database,
    )  # fmt: skip

    assert code == 0, output
    assert "stored as run 'it-stored'" in output
    sha, trades, figures_trades, net, figures_net = _one(
        database, "SELECT trade_log_sha256, count(t.seq), (figures->>'trades')::int, "
        "sum(t.net_pnl), (figures->>'net_pnl')::float FROM backtest_runs r JOIN backtest_trades "
        "t USING (run_id) WHERE run_id = %s GROUP BY r.run_id",
        "it-stored",
    )  # fmt: skip
    assert sha == hashlib.sha256((tmp_path / "it-stored.jsonl").read_bytes()).hexdigest()
    assert trades == figures_trades
    assert trades > 0
    assert net == pytest.approx(figures_net)


def test_running_a_run_id_again_replaces_its_rows(database: str, tmp_path: Path) -> None:
    _simulated(database, "it-again", tmp_path, "--latency-ms", "0")

    code, output = _simulated(database, "it-again", tmp_path, "--latency-ms", "900")

    assert code == 0, output
    assert "replacing the earlier run of that id" in output
    count, latency = _one(
        database, "SELECT count(*), max((config->'broker'->>'latency_ns')::bigint) "
        "FROM backtest_runs WHERE run_id = %s", "it-again",
    )  # fmt: skip
    assert (count, latency) == (1, 900_000_000)


def test_no_store_leaves_the_database_alone(database: str, tmp_path: Path) -> None:
    code, output = _simulated(database, "it-not-stored", tmp_path, "--no-store")

    assert code == 0, output
    assert "not stored in the database (--no-store)" in output
    assert _one(database, "SELECT count(*) FROM backtest_runs WHERE run_id = 'it-not-stored'") == (
        0,
    )


def test_without_a_database_the_run_says_it_was_not_stored(tmp_path: Path) -> None:
    code, output = _simulated(NO_DATABASE, "it-nowhere", tmp_path)

    assert code == 0, output
    assert "not stored in the database: no database answers at 127.0.0.1:1/nothing" in output


def test_store_without_a_database_is_an_error(tmp_path: Path) -> None:
    code, output = _simulated(NO_DATABASE, "it-nowhere", tmp_path, "--store")

    assert code == 1
    assert "no database answers at 127.0.0.1:1/nothing" in output


def test_two_stored_runs_are_compared_side_by_side(database: str, tmp_path: Path) -> None:
    _simulated(database, "it-a", tmp_path)
    _simulated(database, "it-b", tmp_path, "--capital", "5000000")

    code, output = _backtest("--compare", "it-a", "it-b", "--database-url", database)

    assert code == 0, output
    assert "backtest it-a vs it-b" in output
    assert "₹2,000,000.00" in output
    assert "₹5,000,000.00" in output
    assert "+₹3,000,000.00" in output


def test_comparing_an_unknown_run_id_names_it(database: str) -> None:
    code, output = _backtest("--compare", "it-a", "it-never", "--database-url", database)

    assert code == 2
    assert "no stored backtest run 'it-never'" in output


def test_a_window_of_recorded_events_replays_as_the_simulation_it_recorded(
    database: str, tmp_path: Path
) -> None:
    code, output = _backtest(
        "--from", f"{DAY}T00:00:00", "--to", f"{DAY}T23:59:59", "--run-id", "it-window",
        "--out-dir", str(tmp_path), "--database-url", database, "--no-store",
    )  # fmt: skip

    assert code == 0, output
    steps = simulated_steps(DAY, RECORDED_STEPS, "it-backtest")
    simulated = run_backtest(steps, BacktestConfig(run_id="it-window"), facts=load_market_facts())
    from_database = (tmp_path / "it-window.jsonl").read_bytes()
    assert simulated.trade_log.events, "six minutes of market should trade"
    assert hashlib.sha256(from_database).hexdigest() == simulated.trade_log_sha256


def test_an_empty_window_is_refused(database: str, tmp_path: Path) -> None:
    code, output = _backtest("--from", "2020-01-01T00:00:00", "--to", "2020-01-02T00:00:00",
                             "--database-url", database, "--out-dir", str(tmp_path))  # fmt: skip

    assert code == 2
    assert "no recorded market events (md.chain, md.vix) in [2020-01-01T00:00:00+00:00" in output


def test_a_window_that_ends_before_it_starts_is_refused(database: str) -> None:
    code, output = _backtest("--from", f"{DAY}T10:00:00", "--to", f"{DAY}T09:00:00",
                             "--database-url", database)  # fmt: skip

    assert code == 2
    assert "must be before --to" in output


def test_the_writer_role_may_replace_runs_and_delete_nothing_else(database: str) -> None:
    privileges = _one(
        database, "SELECT has_table_privilege('optbus_writer', 'backtest_runs', 'DELETE'), "
        "has_table_privilege('optbus_writer', 'backtest_trades', 'INSERT'), "
        "has_table_privilege('optbus_writer', 'backtest_trades', 'DELETE'), "
        "has_table_privilege('optbus_writer', 'backtest_runs', 'UPDATE')",
    )  # fmt: skip
    assert privileges == (True, True, False, False)
