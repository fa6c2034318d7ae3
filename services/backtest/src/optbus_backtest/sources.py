"""Where a backtest's market steps come from: the simulator or a recorded session file."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from optbus.clock import ReplayClock
from optbus.events import Event
from optbus.market import MarketFacts
from optbus_market_data.recorded import read_session
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig


def simulator(
    *, seed: int, start_date: date, days: int, facts: MarketFacts, run_id: str = "backtest"
) -> ChainSimulator:
    """The market-data simulator for a run (its own ``ts_init`` is irrelevant: restamped)."""
    config = SimulatorConfig(seed=seed, run_id=run_id, start_date=start_date, days=days)
    return ChainSimulator(config, facts, ReplayClock())


def simulated_step_count(sim: ChainSimulator, facts: MarketFacts) -> int:
    """How many steps the simulator will yield (for a progress bar's total)."""
    step_ns = sim.config.step_seconds * 1e9
    return sum(
        int((facts.session_close_ns(day) - facts.session_open_ns(day)) / step_ns)
        for day in sim.trading_days()
    )


def first(steps: Iterator[list[Event]], max_steps: int | None) -> Iterator[list[Event]]:
    """The first ``max_steps`` steps (all of them for None)."""
    return steps if max_steps is None else itertools.islice(steps, max_steps)


def recorded_steps(path: Path) -> Iterator[list[Event]]:
    """The steps of a recorded session file (docs/recorded-session-format.md)."""
    steps: Iterator[list[Event]] = read_session(path)
    return steps
