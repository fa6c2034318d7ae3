"""``optbus backtest``: a short run from the simulator and from a recorded session file."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from rich.console import Console

from optbus.market import load_market_facts
from optbus_backtest.config import BacktestConfig
from optbus_backtest.console import market_time, run_command
from optbus_backtest.engine import run_backtest
from optbus_backtest.options import BacktestOptions
from optbus_backtest.sources import first, simulator
from optbus_market_data.export import export_session
from optbus_market_data.simulator import SimulatorConfig

START = date(2026, 6, 1)


def _quiet() -> Console:
    return Console(file=open("/dev/null", "w"), width=120)


def test_a_simulated_run_writes_its_trade_log_named_after_the_run_id(tmp_path: Path) -> None:
    options = BacktestOptions(days=1, start_date=START, seed=7, minutes=6, run_id="cli-sim",
                              out_dir=tmp_path)  # fmt: skip
    result = run_command(options, _quiet()).result
    written = (tmp_path / "cli-sim.jsonl").read_bytes()
    assert written
    assert hashlib.sha256(written).hexdigest() == result.trade_log_sha256


def test_a_recorded_session_replays_to_the_same_trades_as_the_simulation_it_recorded(
    tmp_path: Path,
) -> None:
    recorded = tmp_path / "session.parquet"
    config = SimulatorConfig(seed=7, run_id="export-7", start_date=START, days=1)
    export_session(config, recorded, load_market_facts(), max_steps=6 * 60)
    from_file = run_command(
        BacktestOptions(days=1, start_date=START, seed=0, file=recorded, out_dir=tmp_path),
        _quiet(),
    ).result
    assert (tmp_path / "backtest-session.jsonl").exists()
    assert from_file.steps == 6 * 60
    assert from_file.summary.intents > 0
    facts = load_market_facts()
    sim = simulator(seed=7, start_date=START, days=1, facts=facts, run_id="export-7")
    simulated = run_backtest(first(sim.ticks(), 6 * 60), BacktestConfig(), facts=facts)
    assert from_file.trade_log_sha256 == simulated.trade_log_sha256, "ids come from the run id"


def test_the_progress_bar_shows_the_market_time_in_ist() -> None:
    at_0930_ist = 1_780_286_400 * 10**9  # 2026-06-01 04:00 UTC

    assert market_time(at_0930_ist, load_market_facts()) == "2026-06-01 09:30 IST"
