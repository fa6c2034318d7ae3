"""What a replay's services emitted: cleared before a run, read back after it, and written
and stored as a run the way a backtest's are, so the two compare."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from optbus import database
from optbus.codec import any_event_decoder
from optbus.events import Event, Fill
from optbus.market import MarketFacts
from optbus.routing import subject_of
from optbus_backtest.job import write_run_files
from optbus_backtest.options import config_json
from optbus_backtest.origins import count_origins
from optbus_backtest.performance import RunPerformance
from optbus_backtest.recorded_db import recorded_steps
from optbus_backtest.store import RunRecord, store_run
from optbus_backtest.tradelog import TradeLog, canonical_sha256
from optbus_backtest.wiring import risk_config
from optbus_cli.replay.options import RESULT_STREAMS, ReplayOptions, replay_config

_decoder = any_event_decoder()
_RUN_EVENTS = (
    "SELECT payload::text FROM events WHERE run_id = %s AND stream = ANY(%s) ORDER BY stream, seq"
)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a replay did: how much it sent, how fast, and what the services emitted."""

    run_id: str
    market_events: int
    steps: int
    first_ts_ns: int
    last_ts_ns: int
    wall_seconds: float
    window: str
    events: list[Event]

    @property
    def market_seconds(self) -> float:
        """The span of market time replayed, in seconds."""
        return (self.last_ts_ns - self.first_ts_ns) / 1e9


@dataclass(frozen=True, slots=True)
class ReplayFiles:
    """Where a replay's results went, and its canonical trade-log hash."""

    trade_log: Path
    report: Path
    figures: Path
    stored: str
    trade_log_sha256: str
    performance: RunPerformance


def clear_run(database_url: str, run_id: str) -> int:
    """Delete what an earlier replay stored under ``run_id``; returns how many rows."""
    with database.connect(database_url) as conn:
        return conn.execute("DELETE FROM events WHERE run_id = %s", (run_id,)).rowcount


def read_run_events(database_url: str, run_id: str) -> list[Event]:
    """What the services of a replay emitted, stream by stream in stream order."""
    with database.connect(database_url) as conn:
        rows = conn.execute(_RUN_EVENTS, (run_id, list(RESULT_STREAMS))).fetchall()
    return [_decoder.decode(row[0]) for row in rows]


def finish_replay(
    options: ReplayOptions,
    result: ReplayResult,
    database_url: str,
    out_dir: Path,
    facts: MarketFacts,
) -> ReplayFiles:
    """Write the replay's trade log, report and figures, and store it as a run."""
    config = replay_config(options)
    log = TradeLog()
    for event in result.events:
        log.record(subject_of(event), event)
    # The window is read again for its quotes: the services' output holds the fills only.
    origins = count_origins(
        recorded_steps(database_url, options.start, options.end),
        (event for event in result.events if isinstance(event, Fill)),
    )
    capital = risk_config(config).capital
    files = write_run_files(out_dir, result.run_id, log, capital, facts, origins)
    record = RunRecord(
        run_id=result.run_id,
        source=f"bus replay of the database window {result.window}",
        config_json=config_json(config),
        trade_log_sha256=canonical_sha256(log.events),
        performance=files.performance,
    )
    stored = store_run(database_url, record, store=True)
    return ReplayFiles(
        files.trade_log, files.report, files.figures, stored, record.trade_log_sha256,
        files.performance,
    )  # fmt: skip
