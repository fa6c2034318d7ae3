"""Gamma scalping: entries only where every filter holds, delta hedges with futures, exits."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optbus.events import (
    ChainGreeks,
    Event,
    OrderIntent,
    Position,
    PositionClosed,
    PositionOpened,
    Signal,
    futures_contract,
)
from optbus.market import MarketFacts
from optbus_strategy.chainview import round_to_tick
from optbus_strategy.engine import StrategyEngine

MakeChain = Callable[..., ChainGreeks]
Fill = Callable[[Iterable[Any]], list[Event]]
OPEN_ALL_DAY = {
    "min_score": 0.0, "max_days_to_expiry": 30.0, "entry_after_open_minutes": 0.0,
    "entry_before_close_minutes": 0.0, "exit_minutes_before_expiry": 0.0,
    "exit_minutes_before_close": 0.0,
}  # fmt: skip
HEDGING = {
    "target_profit": 10.0, "stop_loss": 10.0, "lots": 4, "hedge_band_delta_lots": 0.5,
    "rebalance_cooldown_seconds": 0.0,
}  # fmt: skip
DAYS = [date(2026, 12, d) for d in (1, 2, 3, 4, 7, 8)]
LAST_DAYS = date(2026, 12, 7)


@pytest.fixture
def make_chain(make_chain: MakeChain) -> MakeChain:
    """Chains the day before expiry unless told: the default gamma floor (0.001 a point) passes
    at-the-money NIFTY options in their last days, not a week out."""

    def make(**kwargs: Any) -> ChainGreeks:
        return make_chain(**{"day": LAST_DAYS, **kwargs})

    return make


def _engine(make_strategy: Any, make_engine: Any, **params: Any) -> StrategyEngine:
    engine: StrategyEngine = make_engine(make_strategy("gamma_scalping", **params))
    return engine


def _intents(outputs: Iterable[Any]) -> list[OrderIntent]:
    return [o for o in outputs if isinstance(o, OrderIntent)]


def _open(engine: StrategyEngine, chain: ChainGreeks, fill: Fill) -> OrderIntent:
    outputs = engine.on_chain(chain)
    for event in fill(outputs):
        engine.handle(event)
    (intent,) = _intents(outputs)
    return intent


def _passes(chain: ChainGreeks, index: int, is_call: bool) -> bool:
    """Every documented filter, read straight off the event (not through the strategy)."""
    quotes = chain.snapshot.calls if is_call else chain.snapshot.puts
    greeks = chain.calls if is_call else chain.puts
    delta, gamma = greeks.delta[index], greeks.gamma[index]
    spot, strike = chain.snapshot.spot, chain.snapshot.strikes[index]
    return (
        abs(strike - spot) <= 0.05 * spot
        and delta is not None and 0.3 < abs(delta) < 0.7
        and gamma is not None and gamma > 0.001
        and quotes.last[index] > 50.0
        and quotes.bid[index] > 0 and quotes.ask[index] >= quotes.bid[index]
    )  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spot=st.floats(24_000.0, 28_000.0),
    vol=st.floats(0.06, 0.6),
    skew=st.floats(-0.4, 0.1),
    day=st.sampled_from(DAYS),
    minutes=st.floats(0.0, 374.0),
)
def test_an_entry_happens_exactly_when_a_strike_passes_every_filter_on_both_sides(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any,
    spot: float, vol: float, skew: float, day: date, minutes: float,
) -> None:  # fmt: skip
    chain = make_chain(spot=spot, vol=vol, skew=skew, day=day, minutes=minutes)
    eligible = [i for i in range(len(chain.snapshot.strikes))
                if _passes(chain, i, True) and _passes(chain, i, False)]  # fmt: skip

    intents = _intents(_engine(make_strategy, make_engine, **OPEN_ALL_DAY).on_chain(chain))

    assert bool(intents) == bool(eligible)
    for leg in (leg for intent in intents for leg in intent.legs):
        index = chain.snapshot.strikes.index(leg.contract.strike)
        assert _passes(chain, index, leg.contract.option_type == "CE")


def test_an_entry_buys_the_call_and_the_put_of_one_strike(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, **OPEN_ALL_DAY)

    (intent,) = _intents(engine.on_chain(make_chain()))

    legs = {(leg.contract.option_type, leg.side, leg.contract.strike) for leg in intent.legs}
    assert {(t, s) for t, s, _ in legs} == {("CE", "BUY"), ("PE", "BUY")}
    assert len({strike for _, _, strike in legs}) == 1


def test_no_entry_is_made_when_no_option_is_priced_above_the_floor(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, min_last_price=10_000.0, **OPEN_ALL_DAY)

    assert engine.on_chain(make_chain()) == []


def test_quantities_are_whole_lots(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, lots=3, **OPEN_ALL_DAY)

    (intent,) = _intents(engine.on_chain(make_chain()))

    assert [leg.quantity for leg in intent.legs] == [3 * 65, 3 * 65]


def test_the_open_intent_carries_its_signal_s_id_and_model_stamp(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, **OPEN_ALL_DAY)

    signal, intent = engine.on_chain(make_chain())

    assert isinstance(signal, Signal)
    assert isinstance(intent, OrderIntent)
    assert (intent.signal_id, intent.model) == (signal.event_id, signal.model)


def test_the_signal_s_features_are_those_of_the_entry_call(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    chain = make_chain()
    engine = _engine(make_strategy, make_engine, **OPEN_ALL_DAY)

    outputs = engine.on_chain(chain)

    features = next(o for o in outputs if isinstance(o, Signal)).model.features
    (intent,) = _intents(outputs)
    call = next(leg.contract for leg in intent.legs if leg.contract.option_type == "CE")
    assert features["is_call"] == 1.0
    assert math.isclose(features["moneyness"], math.log(call.strike / chain.forward))


def test_a_long_delta_is_hedged_by_selling_futures_in_the_same_group(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, **HEDGING, **OPEN_ALL_DAY)
    entry = _open(engine, make_chain(minutes=60), fill)

    (hedge,) = _intents(engine.on_chain(make_chain(minutes=70, spot=26_250.0)))

    assert (hedge.purpose, hedge.group_id) == ("open", entry.group_id)
    assert [(leg.contract.option_type, leg.side) for leg in hedge.legs] == [("FUT", "SELL")]


def test_a_short_delta_is_hedged_by_buying_futures(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, **HEDGING, **OPEN_ALL_DAY)
    _open(engine, make_chain(minutes=60), fill)

    (hedge,) = _intents(engine.on_chain(make_chain(minutes=70, spot=25_750.0)))

    assert [(leg.contract.option_type, leg.side) for leg in hedge.legs] == [("FUT", "BUY")]


def test_the_hedge_is_the_monthly_future_the_chain_quotes_at_its_futures_price(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill, facts: MarketFacts
) -> None:
    engine = _engine(make_strategy, make_engine, **HEDGING, **OPEN_ALL_DAY)
    _open(engine, make_chain(minutes=60), fill)
    moved = make_chain(minutes=70, spot=26_250.0)

    (hedge,) = _intents(engine.on_chain(moved))

    (leg,) = hedge.legs
    expiry = facts.futures_expiry("NIFTY", moved.snapshot.expiry)
    assert leg.contract == futures_contract("NIFTY", expiry)
    assert leg.limit_price == round_to_tick(moved.snapshot.futures, 0.05, up=False)
    assert leg.quantity % 65 == 0


def test_hedging_stops_at_the_maximum_number_of_hedges(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, **HEDGING, max_hedges=1, **OPEN_ALL_DAY)
    _open(engine, make_chain(minutes=60), fill)
    assert len(_intents(engine.on_chain(make_chain(minutes=70, spot=26_250.0)))) == 1

    later = engine.on_chain(make_chain(minutes=80, spot=26_600.0))

    assert _intents(later) == []


def test_a_hedge_band_narrower_than_half_a_lot_is_refused(make_strategy: Any) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"at least 0\.5"):
        make_strategy("gamma_scalping", hedge_band_delta_lots=0.4)


def _net_delta(chain: ChainGreeks, positions: Iterable[Position]) -> float:
    """Units of delta of ``positions`` read straight off the chain (a future: 1 a unit)."""
    total = 0.0
    for position in positions:
        contract = position.contract
        if contract.option_type == "FUT":
            total += position.quantity
            continue
        greeks = chain.calls if contract.option_type == "CE" else chain.puts
        delta = greeks.delta[chain.snapshot.strikes.index(contract.strike)]
        assert delta is not None
        total += position.quantity * delta
    return total


def test_over_a_day_the_net_delta_is_within_the_band_after_each_hedge(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, **HEDGING, max_hedges=100, **OPEN_ALL_DAY)
    positions: dict[str, Position] = {}
    band = 0.5 * 65
    path = [26_000.0 + 400.0 * math.sin(step / 9.0) for step in range(0, 300, 5)]
    hedges = 0
    for step, spot in enumerate(path):
        chain = make_chain(minutes=30.0 + step * 5, spot=spot)
        outputs = engine.on_chain(chain)
        for event in fill(outputs):
            engine.handle(event)
            if isinstance(event, PositionOpened):
                positions[event.position.position_id] = event.position
            elif isinstance(event, PositionClosed):
                positions.pop(event.position_id)
        if any(i.purpose == "open" and i.legs[0].contract.option_type == "FUT"
               for i in _intents(outputs)):  # fmt: skip
            hedges += 1
            assert abs(_net_delta(chain, positions.values())) <= band

    assert hedges >= 3


def test_the_group_closes_when_the_target_profit_is_reached(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, target_profit=0.2, **OPEN_ALL_DAY)
    entry = _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, spot=26_600.0)))

    assert (close.purpose, close.reason, close.group_id) == ("close", "target", entry.group_id)
    assert sorted(leg.side for leg in close.legs) == ["SELL", "SELL"]


def test_the_group_closes_before_the_session_ends(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    params = {**OPEN_ALL_DAY, "exit_minutes_before_close": 15.0}
    engine = _engine(make_strategy, make_engine, **params)
    _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=361)))

    assert close.reason == "session_close"
