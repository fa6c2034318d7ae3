"""In-process backtest of one full trading day (09:15-15:30, one snapshot per second per chain).

Issue 5's target: under 30 s on one core. References measured or fixed in the same run: the
market time replayed (real time) and the 30 s target.
"""

from __future__ import annotations

import time
from datetime import date

from _records import Record, one_core, record

from optbus.market import load_market_facts
from optbus_backtest.config import BacktestConfig
from optbus_backtest.run import run_backtest
from optbus_backtest.sources import first, simulator

TARGET_SECONDS = 30.0


def run(scale: float) -> list[Record]:
    """One simulated day (a fraction of it with ``scale`` < 1) through every handler."""
    facts = load_market_facts()
    day = date(2026, 12, 2)
    sim = simulator(seed=11, start_date=day, days=1, facts=facts)
    steps_in_day = int((facts.session_close_ns(day) - facts.session_open_ns(day)) / 1e9)
    steps = first(sim.ticks(), max(600, int(steps_in_day * scale)))
    with one_core():
        started = time.perf_counter()
        result = run_backtest(steps, BacktestConfig(run_id="bench-backtest"), facts=facts)
        seconds = time.perf_counter() - started
    day_seconds = seconds * steps_in_day / result.steps
    return [
        record(
            "backtest_full_day_one_core",
            result.option_quotes / seconds,
            "option quotes/s",
            "(rate needed for a day in 30 s)",
            result.option_quotes * steps_in_day / result.steps / TARGET_SECONDS,
        ),
        record(
            "backtest_multiple_of_real_time",
            result.market_seconds / seconds,
            "x real time",
            "a day in 30 s (750x)",
            steps_in_day / TARGET_SECONDS,
        ),
        record("backtest_seconds_per_day", day_seconds, "s", "target", TARGET_SECONDS),
    ]
