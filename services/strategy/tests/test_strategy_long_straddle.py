"""Long straddle: buys the ATM straddle when implied volatility is cheap, sells when it is not."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from optbus.events import ChainGreeks, Event, OrderIntent, Signal
from optbus_strategy.engine import StrategyEngine

MakeChain = Callable[..., ChainGreeks]
Fill = Callable[[Iterable[Any]], list[Event]]
PARAMS = {
    "min_score": 0.0, "max_days_to_expiry": 30.0, "min_days_to_expiry": 0.0,
    "entry_after_open_minutes": 0.0, "min_iv_history": 5, "max_iv_percentile": 0.2,
    "exit_iv_percentile": 0.6, "target_profit": 10.0, "stop_loss": 10.0,
}  # fmt: skip


def _engine(make_strategy: Any, make_engine: Any, **params: Any) -> StrategyEngine:
    engine: StrategyEngine = make_engine(make_strategy("long_straddle", **{**PARAMS, **params}))
    return engine


def _intents(outputs: Iterable[Any]) -> list[OrderIntent]:
    return [o for o in outputs if isinstance(o, OrderIntent)]


def _history(engine: StrategyEngine, make_chain: MakeChain, vols: list[float]) -> None:
    """Feed one chain a minute, from minute 10, with the given volatilities."""
    for minute, vol in enumerate(vols, start=10):
        assert engine.on_chain(make_chain(minutes=minute, vol=vol)) == []


def test_no_entry_is_made_before_enough_iv_history(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    _history(engine, make_chain, [0.20, 0.19, 0.18, 0.17])

    assert engine.on_chain(make_chain(minutes=20, vol=0.10)) == []


def test_cheap_volatility_buys_the_call_and_the_put_nearest_the_forward(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    _history(engine, make_chain, [0.20, 0.19, 0.18, 0.17, 0.16])
    chain = make_chain(minutes=20, vol=0.10)

    (intent,) = _intents(engine.on_chain(chain))

    atm = min(chain.snapshot.strikes, key=lambda k: abs(k - chain.forward))
    legs = sorted((leg.contract.option_type, leg.side, leg.contract.strike) for leg in intent.legs)
    assert legs == [("CE", "BUY", atm), ("PE", "BUY", atm)]


def test_the_signal_is_as_strong_as_volatility_is_cheap(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    _history(engine, make_chain, [0.20, 0.19, 0.18, 0.17, 0.16])

    signal = next(
        o for o in engine.on_chain(make_chain(minutes=20, vol=0.10)) if isinstance(o, Signal)
    )

    assert signal.strength == pytest.approx(1.0 - signal.model.features["iv_percentile"])


def test_no_entry_is_made_while_volatility_is_dear(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    _history(engine, make_chain, [0.10, 0.11, 0.12, 0.13, 0.14])

    assert engine.on_chain(make_chain(minutes=20, vol=0.20)) == []


def test_the_straddle_closes_when_volatility_is_no_longer_cheap(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    _history(engine, make_chain, [0.20, 0.19, 0.18, 0.17, 0.16])
    for event in fill(engine.on_chain(make_chain(minutes=20, vol=0.10))):
        engine.handle(event)

    (close,) = _intents(engine.on_chain(make_chain(minutes=25, vol=0.19)))

    assert (close.purpose, close.reason) == ("close", "iv_reverted")
