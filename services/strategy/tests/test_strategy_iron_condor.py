"""Iron condor: short strangle plus wings, defined risk, exits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optbus.events import ChainGreeks, Event, OrderIntent
from optbus_strategy.engine import StrategyEngine

MakeChain = Callable[..., ChainGreeks]
Fill = Callable[[Iterable[Any]], list[Event]]
OPEN_ALL_DAY = {
    "min_score": 0.0, "max_days_to_expiry": 30.0, "entry_after_open_minutes": 0.0,
    "entry_before_close_minutes": 0.0,
}  # fmt: skip
STEP = 50.0


def _engine(make_strategy: Any, make_engine: Any, **params: Any) -> StrategyEngine:
    engine: StrategyEngine = make_engine(make_strategy("iron_condor", **{**OPEN_ALL_DAY, **params}))
    return engine


def _intents(outputs: Iterable[Any]) -> list[OrderIntent]:
    return [o for o in outputs if isinstance(o, OrderIntent)]


def _strikes(intent: OrderIntent) -> dict[tuple[str, str], float]:
    return {(leg.side, leg.contract.option_type): leg.contract.strike for leg in intent.legs}


def test_the_wings_are_bought_the_configured_steps_beyond_the_short_strikes(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, wing_steps=3)

    (intent,) = _intents(engine.on_chain(make_chain()))

    strikes = _strikes(intent)
    assert strikes[("BUY", "CE")] == strikes[("SELL", "CE")] + 3 * STEP
    assert strikes[("BUY", "PE")] == strikes[("SELL", "PE")] - 3 * STEP


def test_the_wings_come_first_so_no_leg_is_ever_naked_short(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    (intent,) = _intents(_engine(make_strategy, make_engine).on_chain(make_chain()))

    assert [leg.side for leg in intent.legs] == ["BUY", "BUY", "SELL", "SELL"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spot=st.floats(24_000.0, 28_000.0),
    vol=st.floats(0.08, 0.5),
    day=st.sampled_from([date(2026, 12, d) for d in (1, 2, 3, 4, 7)]),
    wing_steps=st.integers(1, 8),
)
def test_every_condor_collects_at_least_the_minimum_credit_and_risks_less_than_its_width(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any,
    spot: float, vol: float, day: date, wing_steps: int,
) -> None:  # fmt: skip
    engine = _engine(make_strategy, make_engine, wing_steps=wing_steps, min_credit=5.0)

    for intent in _intents(engine.on_chain(make_chain(spot=spot, vol=vol, day=day))):
        signed = [
            (1 if leg.side == "SELL" else -1) * (leg.limit_price or 0.0) for leg in intent.legs
        ]
        credit, width = sum(signed), wing_steps * STEP
        assert credit >= 5.0 - 1e-9  # limits at the touch: the credit checked is the one traded
        assert credit < width


def test_no_condor_is_opened_for_too_small_a_credit(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, min_credit=1_000.0)

    assert engine.on_chain(make_chain()) == []


def test_no_condor_is_opened_when_a_wing_strike_is_not_listed(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, wing_steps=100)

    assert engine.on_chain(make_chain()) == []


def test_the_condor_closes_at_the_target_profit(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    outputs = engine.on_chain(make_chain(minutes=60))
    for event in fill(outputs):
        engine.handle(event)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, vol=0.05)))

    assert (close.reason, len(close.legs)) == ("target", 4)


def test_a_tested_condor_is_not_adjusted(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, stop_loss=10.0)
    outputs = engine.on_chain(make_chain(minutes=60))
    for event in fill(outputs):
        engine.handle(event)

    assert engine.on_chain(make_chain(minutes=70, spot=26_300.0)) == []
