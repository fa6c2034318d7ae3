"""Short straddle: sells the ATM call and put, re-centres when the market moves off, exits."""

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
    "entry_before_close_minutes": 0.0, "min_iv_percentile": 0.5, "min_premium": 20.0,
    "recenter_steps": 2, "max_net_delta": 100.0, "target_profit": 0.3, "stop_loss": 0.5,
    "adjust_cooldown_seconds": 0.0,
}  # fmt: skip
STEP = 50.0


def _engine(make_strategy: Any, make_engine: Any, **params: Any) -> StrategyEngine:
    engine: StrategyEngine = make_engine(make_strategy("short_straddle", **{**PARAMS, **params}))
    return engine


def _intents(outputs: Iterable[Any]) -> list[OrderIntent]:
    return [o for o in outputs if isinstance(o, OrderIntent)]


def _open(engine: StrategyEngine, chain: ChainGreeks, fill: Fill) -> OrderIntent:
    outputs = engine.on_chain(chain)
    for event in fill(outputs):
        engine.handle(event)
    (intent,) = _intents(outputs)
    return intent


def _atm(chain: ChainGreeks) -> float:
    return min(chain.snapshot.strikes, key=lambda k: abs(k - chain.forward))


def test_an_entry_sells_the_call_and_the_put_nearest_the_forward(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    chain = make_chain()

    (intent,) = _intents(_engine(make_strategy, make_engine).on_chain(chain))

    legs = sorted((leg.contract.option_type, leg.side, leg.contract.strike) for leg in intent.legs)
    assert legs == [("CE", "SELL", _atm(chain)), ("PE", "SELL", _atm(chain))]


def test_no_entry_is_made_while_the_iv_percentile_is_below_the_floor(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, min_iv_percentile=0.9)

    assert engine.on_chain(make_chain()) == []


def test_no_entry_is_made_when_a_leg_s_bid_is_below_the_minimum_premium(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, min_premium=10_000.0)

    assert engine.on_chain(make_chain()) == []


def test_no_entry_is_made_outside_the_days_to_expiry_window(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, max_days_to_expiry=2.0)

    assert engine.on_chain(make_chain(day=date(2026, 12, 2))) == []


def test_a_move_beyond_the_recentre_steps_closes_the_straddle_and_sells_it_at_the_new_centre(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, stop_loss=10.0)
    entry = _open(engine, make_chain(minutes=60), fill)
    moved = make_chain(minutes=70, spot=26_000.0 + 3 * STEP)

    close, reopen = _intents(engine.on_chain(moved))

    old = entry.legs[0].contract.strike
    assert (close.purpose, close.reason, close.group_id) == ("close", "roll-1", entry.group_id)
    assert sorted(leg.side for leg in close.legs) == ["BUY", "BUY"]
    assert {leg.contract.strike for leg in close.legs} == {old}
    assert (reopen.purpose, reopen.group_id) == ("open", entry.group_id)
    assert {(leg.contract.strike, leg.side) for leg in reopen.legs} == {(_atm(moved), "SELL")}


def test_a_move_within_the_recentre_steps_leaves_the_straddle_alone(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, stop_loss=10.0)
    _open(engine, make_chain(minutes=60), fill)

    assert _intents(engine.on_chain(make_chain(minutes=70, spot=26_000.0 + STEP))) == []


def test_a_net_delta_beyond_the_band_re_centres_the_straddle(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(
        make_strategy, make_engine, recenter_steps=0, max_net_delta=0.1, stop_loss=10.0
    )
    entry = _open(engine, make_chain(minutes=60), fill)

    close, reopen = _intents(engine.on_chain(make_chain(minutes=70, spot=26_100.0)))

    assert (close.reason, reopen.group_id) == ("roll-1", entry.group_id)


def test_re_centring_stops_at_the_maximum_number_of_adjustments(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, max_adjustments=0, stop_loss=10.0)
    _open(engine, make_chain(minutes=60), fill)

    assert _intents(engine.on_chain(make_chain(minutes=70, spot=26_000.0 + 3 * STEP))) == []


def test_no_second_re_centre_comes_within_the_adjustment_cooldown(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, adjust_cooldown_seconds=600.0, stop_loss=10.0)
    _open(engine, make_chain(minutes=60), fill)
    for event in fill(engine.on_chain(make_chain(minutes=70, spot=26_000.0 + 3 * STEP))):
        engine.handle(event)

    assert _intents(engine.on_chain(make_chain(minutes=75, spot=26_000.0 + 6 * STEP))) == []


def test_the_straddle_closes_at_the_target_profit(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    entry = _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, vol=0.08)))

    assert (close.purpose, close.reason, close.group_id) == ("close", "target", entry.group_id)


def test_the_straddle_closes_at_the_stop(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, vol=0.25)))

    assert close.reason == "stop"


def test_the_straddle_closes_before_expiry(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, exit_minutes_before_expiry=60.0)
    _open(engine, make_chain(day=date(2026, 12, 7), minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(day=date(2026, 12, 8), minutes=330)))

    assert close.reason == "expiry"


def test_the_straddle_closes_before_the_session_closes(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, exit_minutes_before_close=15.0)
    _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=365)))

    assert close.reason == "session_close"
