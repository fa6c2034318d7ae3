"""Where a backtest's market steps come from: the simulator, a recorded file, the database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime

import psycopg

from optbus.clock import ReplayClock
from optbus.events import Event
from optbus.market import MarketFacts
from optbus_backtest.options import BacktestInputError, BacktestOptions
from optbus_backtest.recorded_db import recorded_step_count, recorded_steps
from optbus_backtest.store import where
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


def database_steps(
    database_url: str, window: tuple[datetime, datetime]
) -> tuple[Iterator[list[Event]], int]:
    """The steps of a database window and how many there are; an empty window is an error."""
    start, end = window
    try:
        total = recorded_step_count(database_url, start, end)
    except psycopg.Error as exc:
        raise BacktestInputError(
            f"cannot read recorded events from the database at {where(database_url)}: "
            f"{str(exc).strip() or type(exc).__name__}"
        ) from None
    if total == 0:
        raise BacktestInputError(
            f"no recorded market events (md.chain, md.vix) in [{start.isoformat()}, "
            f"{end.isoformat()}) in the database at {where(database_url)}"
        )
    return recorded_steps(database_url, start, end), total


def market_steps(
    options: BacktestOptions, facts: MarketFacts
) -> tuple[Iterator[list[Event]], int | None]:
    """The market steps the options ask for and, when it is known, how many there are."""
    max_steps = None if options.minutes is None else options.minutes * 60
    steps: Iterator[list[Event]]
    total: int | None
    if options.file is not None:
        steps, total = read_session(options.file), None
    elif options.window is not None:
        steps, total = database_steps(options.database_url, options.window)
    else:
        sim = simulator(seed=options.seed, start_date=options.start_date, days=options.days,
                        facts=facts)  # fmt: skip
        steps, total = sim.ticks(), simulated_step_count(sim, facts)
    if max_steps is not None and total is not None:
        total = min(total, max_steps)
    return first(steps, max_steps), total
