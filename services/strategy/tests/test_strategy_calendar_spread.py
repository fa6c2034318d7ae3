"""Calendar spread: sells the near expiry and buys the next at the money when near IV is rich."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from optbus.events import ChainGreeks, OrderIntent
from optbus_strategy.engine import StrategyEngine

MakeChain = Callable[..., ChainGreeks]
Engine = Callable[..., StrategyEngine]
Enter = Callable[..., list[OrderIntent]]
NEAR, FAR = date(2026, 12, 8), date(2026, 12, 15)
PARAMS = {
    "min_score": 0.0, "max_days_to_expiry": 30.0, "entry_after_open_minutes": 0.0,
    "entry_before_close_minutes": 0.0, "min_iv_spread": 0.01, "min_premium": 5.0,
    "target_profit": 0.25, "stop_loss": 0.3, "exit_minutes_before_expiry": 1_500.0,
}  # fmt: skip
KIND = "calendar_spread"


def _pair(
    make_chain: MakeChain, *, near_vol: float, far_vol: float, minutes: float = 60.0,
    far_minutes: float | None = None, **market: Any,
) -> tuple[ChainGreeks, ChainGreeks]:  # fmt: skip
    """A far chain (seen first) and a near chain of the same market."""
    far = make_chain(expiry=FAR, vol=far_vol, minutes=far_minutes or minutes,
                     event_id=f"far-{minutes}-{far_vol}-{market}", **market)  # fmt: skip
    near = make_chain(expiry=NEAR, vol=near_vol, minutes=minutes,
                      event_id=f"near-{minutes}-{near_vol}-{market}", **market)  # fmt: skip
    return far, near


def test_rich_near_volatility_sells_the_near_atm_call_and_buys_the_next_expiry_s(
    make_chain: MakeChain, strategy_engine: Engine, entered: Enter
) -> None:
    far, near = _pair(make_chain, near_vol=0.16, far_vol=0.13)

    (intent,) = entered(strategy_engine(KIND, PARAMS), far, near)

    atm = min(near.snapshot.strikes, key=lambda k: abs(k - near.forward))
    legs = [(leg.side, leg.contract.expiry, leg.contract.strike, leg.contract.option_type)
            for leg in intent.legs]  # fmt: skip
    assert legs == [("BUY", FAR, atm, "CE"), ("SELL", NEAR, atm, "CE")]


def test_the_far_leg_is_priced_on_the_far_expiry_s_chain(
    make_chain: MakeChain, strategy_engine: Engine, entered: Enter
) -> None:
    far, near = _pair(make_chain, near_vol=0.16, far_vol=0.13)

    (intent,) = entered(strategy_engine(KIND, PARAMS), far, near)

    bought = intent.legs[0]
    index = far.snapshot.strikes.index(bought.contract.strike)
    assert bought.limit_price == far.snapshot.calls.ask[index]


def test_no_entry_is_made_when_near_iv_is_not_over_far_iv_by_the_margin(
    make_chain: MakeChain, strategy_engine: Engine, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS)

    assert entered(engine, *_pair(make_chain, near_vol=0.135, far_vol=0.13)) == []


def test_no_entry_is_made_without_a_chain_of_a_later_expiry(
    make_chain: MakeChain, strategy_engine: Engine
) -> None:
    engine = strategy_engine(KIND, PARAMS)

    assert engine.on_chain(make_chain(expiry=NEAR, vol=0.16)) == []


def test_no_entry_is_made_on_a_far_chain_older_than_the_allowed_age(
    make_chain: MakeChain, strategy_engine: Engine, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS, max_chain_age_seconds=120.0)
    stale = _pair(make_chain, near_vol=0.16, far_vol=0.13, minutes=60.0, far_minutes=55.0)

    assert entered(engine, *stale) == []


def test_no_entry_is_made_when_the_near_expiry_is_closer_than_the_minimum_days(
    make_chain: MakeChain, strategy_engine: Engine, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS, min_days_to_expiry=2.0)

    assert entered(engine, *_pair(make_chain, near_vol=0.16, far_vol=0.13,
                                  day=date(2026, 12, 7))) == []  # fmt: skip


def test_the_calendar_closes_at_the_target_profit_with_the_far_leg_marked_on_its_chain(
    make_chain: MakeChain, strategy_engine: Engine, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS)
    (_,) = entered(engine, *_pair(make_chain, near_vol=0.16, far_vol=0.13))

    (close,) = entered(engine, *_pair(make_chain, near_vol=0.10, far_vol=0.15, minutes=70.0))

    assert (close.purpose, close.reason) == ("close", "target")
    assert {leg.contract.expiry for leg in close.legs} == {NEAR, FAR}


def test_the_calendar_closes_at_the_stop(
    make_chain: MakeChain, strategy_engine: Engine, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS)
    (_,) = entered(engine, *_pair(make_chain, near_vol=0.16, far_vol=0.13))

    (close,) = entered(engine, *_pair(make_chain, near_vol=0.22, far_vol=0.10, minutes=70.0))

    assert close.reason == "stop"


def test_the_calendar_closes_the_configured_time_before_the_near_expiry(
    make_chain: MakeChain, strategy_engine: Engine, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS, target_profit=10.0, stop_loss=10.0)
    (_,) = entered(engine, *_pair(make_chain, near_vol=0.16, far_vol=0.13, day=date(2026, 12, 4)))

    (close,) = entered(engine, *_pair(make_chain, near_vol=0.16, far_vol=0.13,
                                      day=date(2026, 12, 7), minutes=330.0))  # fmt: skip

    assert close.reason == "expiry"
