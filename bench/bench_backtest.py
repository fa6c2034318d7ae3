"""In-process backtest of one full trading day (09:15-15:30, one snapshot per second per chain).

Issue 5's target: under 30 s on one core, reading the input (the simulator) included.
References measured or fixed in the same run: the market time replayed (real time), the 30 s
target, the whole run for its two parts (the simulator making the input, the handlers and bus
consuming it), and for the greeks handler's price of one chain the figure measured before the
issue-5 speed work.
"""

from __future__ import annotations

import time
from datetime import date

from _records import Record, best_seconds, one_core, record

from optbus.clock import ReplayClock
from optbus.events import OptionChainSnapshot
from optbus.market import MarketFacts, load_market_facts
from optbus.rates import DatedRate
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import run_backtest
from optbus_backtest.sources import first, simulator
from optbus_greeks.domain import GreeksConfig, enrich_chain

TARGET_SECONDS = 30.0
DAY = date(2026, 12, 2)
GREEKS_US_BEFORE = 270.0  # enrich_chain per 122-option chain, measured before the speed work
GREEKS_SAMPLE_STEPS = 300


def _simulator_seconds(facts: MarketFacts, steps: int) -> float:
    """The simulator alone over the same steps: the cost of making the input."""
    sim = simulator(seed=11, start_date=DAY, days=1, facts=facts)
    started = time.perf_counter()
    for _ in first(sim.ticks(), steps):
        pass
    return time.perf_counter() - started


def _greeks_us_per_chain(facts: MarketFacts) -> float:
    """The greeks handler's domain on the day's first chains (122 options each), best of 3."""
    sim = simulator(seed=11, start_date=DAY, days=1, facts=facts)
    chains = [
        event
        for step in first(sim.ticks(), GREEKS_SAMPLE_STEPS)
        for event in step
        if isinstance(event, OptionChainSnapshot) and len(event.strikes) == 61
    ]
    config = GreeksConfig(rate_at=DatedRate(facts), expiry_close_ns=facts.expiry_close_ns)
    clock = ReplayClock()

    def price_all() -> None:
        for chain in chains:
            enrich_chain(chain, config, clock)

    return best_seconds(price_all, 3) / len(chains) * 1e6


def run(scale: float) -> list[Record]:
    """One simulated day (a fraction of it with ``scale`` < 1) through every handler."""
    facts = load_market_facts()
    sim = simulator(seed=11, start_date=DAY, days=1, facts=facts)
    steps_in_day = int((facts.session_close_ns(DAY) - facts.session_open_ns(DAY)) / 1e9)
    steps = first(sim.ticks(), max(600, int(steps_in_day * scale)))
    with one_core():
        started = time.perf_counter()
        result = run_backtest(steps, BacktestConfig(run_id="bench-backtest"), facts=facts)
        seconds = time.perf_counter() - started
        simulator_seconds = _simulator_seconds(facts, result.steps)
        greeks_us = _greeks_us_per_chain(facts)
    per_day = steps_in_day / result.steps
    day_seconds = seconds * per_day
    print(f"  trade-log sha256 {result.trade_log_sha256}")
    return [
        record(
            "backtest_full_day_one_core",
            result.option_quotes / seconds,
            "option quotes/s",
            "(rate needed for a day in 30 s)",
            result.option_quotes * per_day / TARGET_SECONDS,
        ),
        record(
            "backtest_multiple_of_real_time",
            result.market_seconds / seconds,
            "x real time",
            "a day in 30 s (750x)",
            steps_in_day / TARGET_SECONDS,
        ),
        record("backtest_seconds_per_day", day_seconds, "s", "target", TARGET_SECONDS),
        record(
            "backtest_simulator_seconds_per_day",
            simulator_seconds * per_day,
            "s",
            "the whole run (simulator + handlers)",
            day_seconds,
        ),
        record(
            "backtest_handlers_seconds_per_day",
            (seconds - simulator_seconds) * per_day,
            "s",
            "the whole run (simulator + handlers)",
            day_seconds,
        ),
        record(
            "greeks_enrich_chain_122_options",
            greeks_us,
            "us/chain",
            "before the issue-5 speed work",
            GREEKS_US_BEFORE,
        ),
    ]
