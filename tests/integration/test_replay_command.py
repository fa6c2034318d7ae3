"""``optbus replay``: a recorded window through the real services on a bus of its own.

The services run as processes against an embedded nats-server, on market time, and store
what they emit in PostgreSQL under the run id. What they emit must be what the in-process
backtest emits for the same recorded window (parity) and the same on every replay
(determinism).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from optbus.codec import encode
from optbus.events import Event, Fill, Signal
from optbus.market import load_market_facts
from optbus.routing import subject_of
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import run_backtest
from optbus_backtest.recorded_db import recorded_steps
from optbus_backtest.tradelog import canonical_sha256
from optbus_cli.main import app
from optbus_cli.replay.job import run_replay
from optbus_cli.replay.options import RESULT_STREAMS, ReplayOptions
from optbus_cli.replay.results import read_run_events
from optbus_market_data.pacing import MAX_SPEED
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore
from optbus_strategy.config import default_strategies_path

from ..conftest import fresh_database
from .conftest import simulated_steps

pytestmark = pytest.mark.integration

DAY = date(2026, 12, 2)
MINUTES = 12
WINDOW_START = datetime.combine(DAY, time(0, 0), tzinfo=UTC)
WINDOW_END = datetime.combine(DAY, time(23, 59), tzinfo=UTC)
QUICK_EXITS = ("max_holding_minutes = 180.0", "max_holding_minutes = 3.0")
"""Positions held at most 3 minutes, so that the short window has round trips."""


@dataclass(frozen=True)
class Recorded:
    """A database holding a recorded session, and a strategies file that trades it."""

    database_url: str
    strategies: Path


@pytest.fixture(scope="module")
def recorded(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Recorded]:
    """Twelve recorded minutes of the simulated session, stored as the live system stores."""
    events = [e for step in simulated_steps(DAY, MINUTES * 60, "it-replay") for e in step]
    strategies = tmp_path_factory.mktemp("replay") / "strategies.toml"
    strategies.write_text(default_strategies_path().read_text().replace(*QUICK_EXITS))
    with fresh_database(postgres_admin_url, f"optbus_replay_test_{os.getpid()}") as url:
        migrate(url)
        store = EventStore(url)
        for first in range(0, len(events), 1_000):
            store.write([
                decode_stored(BusMessage("MD", seq, subject_of(e), encode(e), e.ts_event, None))
                for seq, e in enumerate(events[first : first + 1_000], start=first + 1)
            ])  # fmt: skip
        store.close()
        yield Recorded(url, strategies)


def _replay(recorded: Recorded, run_id: str) -> list[Event]:
    options = ReplayOptions(
        start=WINDOW_START, end=WINDOW_END, run_id=run_id, speed=MAX_SPEED,
        strategies_file=recorded.strategies,
    )  # fmt: skip
    return run_replay(options, recorded.database_url).events


@pytest.fixture(scope="module")
def first_replay(recorded: Recorded) -> list[Event]:
    """What the services emitted on a first replay of the window."""
    return _replay(recorded, "it-replay-first")


def _in_process(recorded: Recorded) -> list[Event]:
    config = BacktestConfig(run_id="it-in-process", strategies_file=recorded.strategies)
    steps = recorded_steps(recorded.database_url, WINDOW_START, WINDOW_END)
    return run_backtest(steps, config, facts=load_market_facts()).trade_log.events


def _differences(left: list[Event], right: list[Event]) -> str:
    """The events only one side emitted (type and id, a few of each), to read a mismatch by."""
    ids_left, ids_right = {e.event_id for e in left}, {e.event_id for e in right}
    only_left = [f"{type(e).__name__} {e.event_id}" for e in left if e.event_id not in ids_right]
    only_right = [f"{type(e).__name__} {e.event_id}" for e in right if e.event_id not in ids_left]
    same_ids_differ = (
        len(left) - len(only_left) - sum(1 for e in left if e.event_id in ids_right and e in right)
    )
    return (f"{len(left)} vs {len(right)} events; only left: {only_left[:8]}; "
            f"only right: {only_right[:8]}; same id, other content: {same_ids_differ}")  # fmt: skip


def test_the_replayed_services_trade_the_recorded_window(first_replay: list[Event]) -> None:
    kinds = {type(event) for event in first_replay}

    assert {Signal, Fill} <= kinds
    assert any(type(event).__name__ == "TradeClosed" for event in first_replay)


def test_a_bus_replay_emits_exactly_what_the_in_process_backtest_emits(
    recorded: Recorded, first_replay: list[Event]
) -> None:
    in_process = _in_process(recorded)

    assert canonical_sha256(first_replay) == canonical_sha256(in_process), _differences(
        first_replay, in_process
    )
    assert len(first_replay) == len(in_process)


def test_two_bus_replays_of_the_same_window_emit_the_same_events(
    recorded: Recorded, first_replay: list[Event]
) -> None:
    second = _replay(recorded, "it-replay-second")

    assert canonical_sha256(second) == canonical_sha256(first_replay), _differences(
        second, first_replay
    )


def test_two_in_process_backtests_from_the_database_write_byte_identical_trade_logs(
    recorded: Recorded,
) -> None:
    config = BacktestConfig(run_id="it-in-process", strategies_file=recorded.strategies)

    logs = [
        run_backtest(
            recorded_steps(recorded.database_url, WINDOW_START, WINDOW_END),
            config,
            facts=load_market_facts(),
        ).trade_log.sha256()
        for _ in range(2)
    ]

    assert logs[0] == logs[1]


def test_a_replay_is_stored_under_its_run_id_and_leaves_the_live_tables_alone(
    recorded: Recorded, first_replay: list[Event]
) -> None:
    with psycopg.connect(recorded.database_url) as conn:
        live_trades = conn.execute("SELECT count(*) FROM trades").fetchone()
        live_events = conn.execute(
            "SELECT count(*) FROM events WHERE run_id = 'live' AND stream <> 'MD'"
        ).fetchone()
        run_streams = {row[0] for row in conn.execute(
            "SELECT DISTINCT stream FROM events WHERE run_id = 'it-replay-first'"
        )}  # fmt: skip

    assert read_run_events(recorded.database_url, "it-replay-first") == first_replay
    assert run_streams
    assert run_streams <= set(RESULT_STREAMS)
    assert live_trades == (0,)
    assert live_events == (0,)


def test_the_replay_command_prints_the_run_and_writes_its_report(
    recorded: Recorded, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, [
        "replay", "--from", WINDOW_START.isoformat(), "--to", WINDOW_END.isoformat(),
        "--run-id", "it-replay-command", "--strategies", str(recorded.strategies),
        "--database-url", recorded.database_url, "--out-dir", str(tmp_path),
    ])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "trade-log sha256" in result.output
    assert (tmp_path / "it-replay-command.html").exists()


def test_replaying_onto_the_live_bus_is_refused(recorded: Recorded) -> None:
    result = CliRunner().invoke(app, [
        "replay", "--from", WINDOW_START.isoformat(), "--to", WINDOW_END.isoformat(),
        "--target-nats-url", "nats://127.0.0.1:4222", "--nats-url", "nats://127.0.0.1:4222",
        "--database-url", recorded.database_url,
    ])  # fmt: skip

    assert result.exit_code == 2
    assert "refusing to replay onto the live bus" in result.output


def test_an_empty_window_is_a_clear_error(recorded: Recorded) -> None:
    result = CliRunner().invoke(app, [
        "replay", "--from", "2020-01-01T00:00:00", "--to", "2020-01-02T00:00:00",
        "--database-url", recorded.database_url,
    ])  # fmt: skip

    assert result.exit_code == 2
    assert "no recorded market events" in result.output
