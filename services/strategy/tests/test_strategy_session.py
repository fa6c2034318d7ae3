"""A simulated NIFTY session through the configured strategies, with paper fills."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import ChainGreeks, Event, OrderIntent, Signal
from optbus.market import MarketFacts
from optbus.scoring import BaselineScorer
from optbus_strategy.base import Output
from optbus_strategy.config import default_strategies_path, load_strategies
from optbus_strategy.engine import StrategyEngine

Fill = Callable[[Iterable[Any]], list[Event]]


def _run(day: list[Event], facts: MarketFacts, fill: Fill) -> list[tuple[ChainGreeks, Output]]:
    """Every output of the default strategies over the day, with the chain that prompted it."""
    specs = load_strategies(default_strategies_path(), facts=facts)
    engine = StrategyEngine.from_specs(specs, BaselineScorer(), facts, ReplayClock(0))
    made: list[tuple[ChainGreeks, Output]] = []
    for event in day:
        outputs = engine.handle(event)
        if isinstance(event, ChainGreeks):
            made.extend((event, output) for output in outputs)
        for position_event in fill(outputs):
            engine.handle(position_event)
    return made


@pytest.fixture(scope="module")
def session(
    simulated_day: list[Event], facts: MarketFacts, fill: Fill
) -> list[tuple[ChainGreeks, Output]]:
    return _run(simulated_day, facts, fill)


def _opens(
    session: list[tuple[ChainGreeks, Output]], strategy: str
) -> list[tuple[ChainGreeks, OrderIntent]]:
    return [
        (c, o) for c, o in session
        if isinstance(o, OrderIntent) and o.purpose == "open" and o.strategy == strategy
    ]  # fmt: skip


def test_every_built_in_kind_on_nifty_makes_an_entry(
    session: list[tuple[ChainGreeks, Output]],
) -> None:
    opened = Counter(
        o.strategy for _, o in session if isinstance(o, OrderIntent) and o.purpose == "open"
    )

    assert {"gamma_scalping", "short_strangle", "iron_condor"} <= set(opened)


def test_every_gamma_scalping_leg_passed_the_filters_on_its_chain(
    session: list[tuple[ChainGreeks, Output]],
) -> None:
    for chain, intent in _opens(session, "gamma_scalping"):
        for leg in intent.legs:
            i = chain.snapshot.strikes.index(leg.contract.strike)
            greeks = chain.calls if leg.contract.option_type == "CE" else chain.puts
            quotes = (
                chain.snapshot.calls if leg.contract.option_type == "CE" else chain.snapshot.puts
            )
            assert abs(leg.contract.strike - chain.snapshot.spot) <= 0.05 * chain.snapshot.spot
            assert 0.3 < abs(greeks.delta[i] or 0.0) < 0.7
            assert (greeks.gamma[i] or 0.0) > 0.0005
            assert quotes.last[i] > 50.0


def test_every_open_intent_carries_its_signal_s_id_and_stamp(
    session: list[tuple[ChainGreeks, Output]],
) -> None:
    signals = {o.event_id: o for _, o in session if isinstance(o, Signal)}

    opens = [o for _, o in session if isinstance(o, OrderIntent) and o.purpose == "open"]

    for intent in opens:
        assert intent.signal_id in signals
        assert intent.model == signals[intent.signal_id].model


def test_every_quantity_is_whole_lots_and_every_limit_is_on_the_tick(
    session: list[tuple[ChainGreeks, Output]],
) -> None:
    legs = [leg for _, o in session if isinstance(o, OrderIntent) for leg in o.legs]

    assert all(leg.quantity % 65 == 0 and leg.quantity > 0 for leg in legs)
    prices = [leg.limit_price for leg in legs if leg.limit_price is not None]
    assert all(math.isclose(p / 0.05, round(p / 0.05), abs_tol=1e-6) for p in prices)


def test_no_strategy_holds_two_groups_on_one_underlying_at_once(
    session: list[tuple[ChainGreeks, Output]],
) -> None:
    live: dict[str, set[str]] = {}
    for _, o in session:
        if isinstance(o, OrderIntent) and o.purpose == "open":
            groups = live.setdefault(o.strategy, set())
            groups.add(o.group_id)
            assert len(groups) == 1, f"{o.strategy} opened a second group"
        elif (
            isinstance(o, OrderIntent) and o.purpose == "close" and not o.reason.startswith("roll")
        ):
            live.get(o.strategy, set()).discard(o.group_id)


def test_the_same_session_replays_to_the_same_bytes(
    simulated_day: list[Event], facts: MarketFacts, fill: Fill,
    session: list[tuple[ChainGreeks, Output]],
) -> None:  # fmt: skip
    again = _run(simulated_day, facts, fill)

    assert [encode(o) for _, o in again] == [encode(o) for _, o in session]
