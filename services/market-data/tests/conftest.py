"""Shared fixtures of the market-data tests: the market facts and small, fast simulations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from optbus.clock import ReplayClock
from optbus.events import Event
from optbus.market import MarketFacts, load_market_facts
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig

FIXED_INIT_NS = 1_780_000_000_000_000_000

MakeConfig = Callable[..., SimulatorConfig]
Simulate = Callable[..., list[list[Event]]]


@pytest.fixture(scope="session")
def facts() -> MarketFacts:
    return load_market_facts()


@pytest.fixture(scope="session")
def make_config() -> MakeConfig:
    """A one-day run at one-minute steps (375 steps): quick, yet a whole session."""

    def make(**overrides: Any) -> SimulatorConfig:
        settings: dict[str, Any] = {
            "seed": 11,
            "run_id": "test-run",
            "start_date": date(2026, 6, 1),
            "days": 1,
            "step_seconds": 60.0,
        }
        settings.update(overrides)
        return SimulatorConfig(**settings)

    return make


@pytest.fixture(scope="session")
def simulate(facts: MarketFacts, make_config: MakeConfig) -> Simulate:
    """Run a small simulation to the end and return its steps (ts_init fixed by the clock)."""

    def run(**overrides: Any) -> list[list[Event]]:
        clock = ReplayClock(FIXED_INIT_NS)
        return list(ChainSimulator(make_config(**overrides), facts, clock).ticks())

    return run


@pytest.fixture(scope="session")
def default_day(simulate: Simulate) -> list[list[Event]]:
    """The steps of one default small session, shared by read-only tests."""
    return simulate()
