"""Short straddle: sells the ATM call and put, re-centres when the market moves off, exits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import pytest

from optbus.events import ChainGreeks, OrderIntent
from optbus_strategy.engine import StrategyEngine

MakeChain = Callable[..., ChainGreeks]
Engine = Callable[..., StrategyEngine]
Intents = Callable[[Iterable[Any]], list[OrderIntent]]
Enter = Callable[..., list[OrderIntent]]
PARAMS = {
    "min_score": 0.0, "max_days_to_expiry": 30.0, "entry_after_open_minutes": 0.0,
    "entry_before_close_minutes": 0.0, "min_iv_percentile": 0.5, "min_premium": 20.0,
    "recenter_steps": 2, "max_net_delta": 100.0, "target_profit": 0.3, "stop_loss": 0.5,
    "adjust_cooldown_seconds": 0.0,
}  # fmt: skip
KIND = "short_straddle"
STEP = 50.0


def _atm(chain: ChainGreeks) -> float:
    return min(chain.snapshot.strikes, key=lambda k: abs(k - chain.forward))


def test_an_entry_sells_the_call_and_the_put_nearest_the_forward(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents
) -> None:
    chain = make_chain()

    (intent,) = intents(strategy_engine(KIND, PARAMS).on_chain(chain))

    legs = sorted((leg.contract.option_type, leg.side, leg.contract.strike) for leg in intent.legs)
    assert legs == [("CE", "SELL", _atm(chain)), ("PE", "SELL", _atm(chain))]


@pytest.mark.parametrize(
    "refusing",
    [
        pytest.param({"min_iv_percentile": 0.9}, id="iv-percentile-below-the-floor"),
        pytest.param({"min_premium": 10_000.0}, id="a-bid-below-the-minimum-premium"),
        pytest.param({"max_days_to_expiry": 2.0}, id="expiry-outside-the-days-window"),
    ],
)
def test_no_entry_is_made_when_an_entry_rule_refuses(
    make_chain: MakeChain, strategy_engine: Engine, refusing: dict[str, float]
) -> None:
    engine = strategy_engine(KIND, PARAMS, **refusing)

    assert engine.on_chain(make_chain(day=date(2026, 12, 2))) == []


def test_a_move_beyond_the_recentre_steps_closes_the_straddle_and_sells_it_at_the_new_centre(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS, stop_loss=10.0)
    (entry,) = entered(engine, make_chain(minutes=60))
    moved = make_chain(minutes=70, spot=26_000.0 + 3 * STEP)

    close, reopen = intents(engine.on_chain(moved))

    old = entry.legs[0].contract.strike
    assert (close.purpose, close.reason, close.group_id) == ("close", "roll-1", entry.group_id)
    assert sorted(leg.side for leg in close.legs) == ["BUY", "BUY"]
    assert {leg.contract.strike for leg in close.legs} == {old}
    assert (reopen.purpose, reopen.group_id) == ("open", entry.group_id)
    assert {(leg.contract.strike, leg.side) for leg in reopen.legs} == {(_atm(moved), "SELL")}


def test_a_move_within_the_recentre_steps_leaves_the_straddle_alone(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS, stop_loss=10.0)
    (_,) = entered(engine, make_chain(minutes=60))

    assert intents(engine.on_chain(make_chain(minutes=70, spot=26_000.0 + STEP))) == []


def test_a_net_delta_beyond_the_band_re_centres_the_straddle(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS, recenter_steps=0, max_net_delta=0.1, stop_loss=10.0)
    (entry,) = entered(engine, make_chain(minutes=60))

    close, reopen = intents(engine.on_chain(make_chain(minutes=70, spot=26_100.0)))

    assert (close.reason, reopen.group_id) == ("roll-1", entry.group_id)


def test_re_centring_stops_at_the_maximum_number_of_adjustments(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS, max_adjustments=0, stop_loss=10.0)
    (_,) = entered(engine, make_chain(minutes=60))

    assert intents(engine.on_chain(make_chain(minutes=70, spot=26_000.0 + 3 * STEP))) == []


def test_no_second_re_centre_comes_within_the_adjustment_cooldown(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents, entered: Enter
) -> None:
    engine = strategy_engine(KIND, PARAMS, adjust_cooldown_seconds=600.0, stop_loss=10.0)
    (_,) = entered(engine, make_chain(minutes=60))
    (_, _) = entered(engine, make_chain(minutes=70, spot=26_000.0 + 3 * STEP))

    assert intents(engine.on_chain(make_chain(minutes=75, spot=26_000.0 + 6 * STEP))) == []


EXPIRY_EVE, EXPIRY_DAY = date(2026, 12, 7), date(2026, 12, 8)


@pytest.mark.parametrize(
    ("params", "opened_on", "later", "reason"),
    [
        pytest.param({}, {}, {"vol": 0.08}, "target", id="target-when-volatility-falls"),
        pytest.param({}, {}, {"vol": 0.25}, "stop", id="stop-when-volatility-jumps"),
        pytest.param({"exit_minutes_before_expiry": 60.0}, {"day": EXPIRY_EVE},
                     {"day": EXPIRY_DAY, "minutes": 330}, "expiry", id="expiry-before-its-close"),
        pytest.param({"exit_minutes_before_close": 15.0}, {}, {"minutes": 365},
                     "session_close", id="session-close-to-be-flat-overnight"),
    ],
)  # fmt: skip
def test_the_straddle_closes_as_soon_as_an_exit_rule_fires(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents, entered: Enter,
    params: dict[str, float], opened_on: dict[str, Any], later: dict[str, Any], reason: str,
) -> None:  # fmt: skip
    engine = strategy_engine(KIND, PARAMS, **params)
    (entry,) = entered(engine, make_chain(**{"minutes": 60, **opened_on}))

    (close,) = intents(engine.on_chain(make_chain(**{"minutes": 70, **later})))

    assert (close.purpose, close.reason, close.group_id) == ("close", reason, entry.group_id)
