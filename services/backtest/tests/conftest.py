"""Shared inputs of the backtest tests: simulated sessions, generated once per test session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache

import pytest

from optbus.events import Event
from optbus.market import MarketFacts, load_market_facts
from optbus_backtest.sources import first, simulator

START = date(2026, 6, 1)


@cache
def _facts() -> MarketFacts:
    return load_market_facts()


@cache
def _steps(seed: int, minutes: int) -> tuple[tuple[Event, ...], ...]:
    sim = simulator(seed=seed, start_date=START, days=1, facts=_facts())
    return tuple(tuple(step) for step in first(sim.ticks(), minutes * 60))


@pytest.fixture(scope="session")
def facts() -> MarketFacts:
    """The market facts of the repository."""
    return _facts()


@pytest.fixture(scope="session")
def simulated() -> Callable[[int, int], tuple[tuple[Event, ...], ...]]:
    """``simulated(seed, minutes)``: the first minutes of a simulated session, cached."""
    return _steps
