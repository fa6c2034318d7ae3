"""Butterfly: the long call butterfly and the iron butterfly at the money, limits and exits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from optbus.events import ChainGreeks, Event, OrderIntent
from optbus_strategy.engine import StrategyEngine

MakeChain = Callable[..., ChainGreeks]
Fill = Callable[[Iterable[Any]], list[Event]]
PARAMS = {
    "min_score": 0.0, "max_days_to_expiry": 30.0, "entry_after_open_minutes": 0.0,
    "entry_before_close_minutes": 0.0, "wing_steps": 4, "max_debit": 150.0, "min_credit": 20.0,
    "target_profit": 0.5, "stop_loss": 0.5,
}  # fmt: skip
STEP = 50.0


def _engine(make_strategy: Any, make_engine: Any, variant: str, **params: Any) -> StrategyEngine:
    strategy = make_strategy("butterfly", **{**PARAMS, "variant": variant, **params})
    engine: StrategyEngine = make_engine(strategy)
    return engine


def _intents(outputs: Iterable[Any]) -> list[OrderIntent]:
    return [o for o in outputs if isinstance(o, OrderIntent)]


def _open(engine: StrategyEngine, chain: ChainGreeks, fill: Fill) -> None:
    outputs = engine.on_chain(chain)
    for event in fill(outputs):
        engine.handle(event)
    assert len(_intents(outputs)) == 1


def _atm(chain: ChainGreeks) -> float:
    return min(chain.snapshot.strikes, key=lambda k: abs(k - chain.forward))


def _legs(intent: OrderIntent) -> list[tuple[str, float, str, int]]:
    return [(leg.side, leg.contract.strike, leg.contract.option_type, leg.quantity)
            for leg in intent.legs]  # fmt: skip


def test_a_long_butterfly_buys_the_wings_first_and_sells_two_centre_calls(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    chain = make_chain()

    (intent,) = _intents(_engine(make_strategy, make_engine, "long").on_chain(chain))

    centre, width = _atm(chain), 4 * STEP
    assert _legs(intent) == [
        ("BUY", centre - width, "CE", 65), ("BUY", centre + width, "CE", 65),
        ("SELL", centre, "CE", 130),
    ]  # fmt: skip


def test_a_long_butterfly_pays_no_more_than_the_maximum_debit(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, "long", max_debit=150.0)

    (intent,) = _intents(engine.on_chain(make_chain()))

    lower, upper, centre = (leg.limit_price or 0.0 for leg in intent.legs)
    assert 0 < lower + upper - 2 * centre <= 150.0


def test_no_long_butterfly_is_opened_for_a_debit_above_the_maximum(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, "long", max_debit=1.0)

    assert engine.on_chain(make_chain()) == []


def test_no_butterfly_is_opened_while_the_iv_percentile_is_above_the_ceiling(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, "long", max_iv_percentile=0.4)

    assert engine.on_chain(make_chain()) == []


def test_an_iron_butterfly_buys_the_wings_first_and_sells_the_centre_call_and_put(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    chain = make_chain()

    (intent,) = _intents(_engine(make_strategy, make_engine, "iron").on_chain(chain))

    centre, width = _atm(chain), 4 * STEP
    assert _legs(intent) == [
        ("BUY", centre + width, "CE", 65), ("BUY", centre - width, "PE", 65),
        ("SELL", centre, "CE", 65), ("SELL", centre, "PE", 65),
    ]  # fmt: skip


def test_no_iron_butterfly_is_opened_for_a_credit_below_the_minimum(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, "iron", min_credit=199.0)

    assert engine.on_chain(make_chain()) == []


def test_no_iron_butterfly_is_opened_while_the_iv_percentile_is_below_the_floor(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, "iron", min_iv_percentile=0.9)

    assert engine.on_chain(make_chain()) == []


def test_no_butterfly_is_opened_when_a_wing_strike_is_not_listed(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, "iron", wing_steps=100)

    assert engine.on_chain(make_chain()) == []


def test_a_long_butterfly_closes_at_the_target_as_the_market_pins_the_centre(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, "long")
    chain = make_chain(day=date(2026, 12, 2), minutes=60)
    _open(engine, chain, fill)

    later = make_chain(day=date(2026, 12, 7), minutes=60, spot=_atm(chain))
    (close,) = _intents(engine.on_chain(later))

    assert (close.reason, len(close.legs)) == ("target", 3)


def test_a_long_butterfly_closes_at_the_stop_when_the_market_runs_away(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, "long")
    _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, spot=27_000.0)))

    assert close.reason == "stop"


def test_an_iron_butterfly_closes_at_the_target_when_volatility_falls(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, "iron", target_profit=0.25)
    _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, vol=0.05)))

    assert (close.reason, len(close.legs)) == ("target", 4)


def test_an_iron_butterfly_closes_at_the_stop_when_the_market_runs_away(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    # The most an iron butterfly can lose is the width less the credit: a stop of a small
    # fraction of the (large) credit is one it can reach.
    engine = _engine(make_strategy, make_engine, "iron", stop_loss=0.05)
    _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, spot=26_400.0)))

    assert close.reason == "stop"


def test_a_butterfly_closes_before_expiry(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, "iron", exit_minutes_before_expiry=60.0,
                     target_profit=10.0, stop_loss=10.0)  # fmt: skip
    _open(engine, make_chain(day=date(2026, 12, 7), minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(day=date(2026, 12, 8), minutes=330)))

    assert close.reason == "expiry"
