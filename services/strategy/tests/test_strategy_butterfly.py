"""Butterfly: the long call butterfly and the iron butterfly at the money, limits and exits."""

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
    "entry_before_close_minutes": 0.0, "wing_steps": 4, "max_debit": 150.0, "min_credit": 20.0,
    "target_profit": 0.5, "stop_loss": 0.5,
}  # fmt: skip
KIND = "butterfly"
LONG, IRON = {**PARAMS, "variant": "long"}, {**PARAMS, "variant": "iron"}
STEP = 50.0


def _atm(chain: ChainGreeks) -> float:
    return min(chain.snapshot.strikes, key=lambda k: abs(k - chain.forward))


def _legs(intent: OrderIntent) -> list[tuple[str, float, str, int]]:
    return [(leg.side, leg.contract.strike, leg.contract.option_type, leg.quantity)
            for leg in intent.legs]  # fmt: skip


def test_a_long_butterfly_buys_the_wings_first_and_sells_two_centre_calls(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents
) -> None:
    chain = make_chain()

    (intent,) = intents(strategy_engine(KIND, LONG).on_chain(chain))

    centre, width = _atm(chain), 4 * STEP
    assert _legs(intent) == [
        ("BUY", centre - width, "CE", 65), ("BUY", centre + width, "CE", 65),
        ("SELL", centre, "CE", 130),
    ]  # fmt: skip


def test_a_long_butterfly_pays_no_more_than_the_maximum_debit(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents
) -> None:
    engine = strategy_engine(KIND, LONG, max_debit=150.0)

    (intent,) = intents(engine.on_chain(make_chain()))

    lower, upper, centre = (leg.limit_price or 0.0 for leg in intent.legs)
    assert 0 < lower + upper - 2 * centre <= 150.0


def test_an_iron_butterfly_buys_the_wings_first_and_sells_the_centre_call_and_put(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents
) -> None:
    chain = make_chain()

    (intent,) = intents(strategy_engine(KIND, IRON).on_chain(chain))

    centre, width = _atm(chain), 4 * STEP
    assert _legs(intent) == [
        ("BUY", centre + width, "CE", 65), ("BUY", centre - width, "PE", 65),
        ("SELL", centre, "CE", 65), ("SELL", centre, "PE", 65),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("variant", "refusing"),
    [
        pytest.param(LONG, {"max_debit": 1.0}, id="long-debit-above-the-maximum"),
        pytest.param(LONG, {"max_iv_percentile": 0.4}, id="long-iv-percentile-above-the-ceiling"),
        pytest.param(IRON, {"min_credit": 199.0}, id="iron-credit-below-the-minimum"),
        pytest.param(IRON, {"min_iv_percentile": 0.9}, id="iron-iv-percentile-below-the-floor"),
        pytest.param(IRON, {"wing_steps": 100}, id="iron-wing-strike-not-listed"),
        pytest.param(LONG, {"wing_steps": 100}, id="long-wing-strike-not-listed"),
    ],
)
def test_no_butterfly_is_opened_when_an_entry_rule_refuses(
    make_chain: MakeChain, strategy_engine: Engine, variant: dict[str, Any],
    refusing: dict[str, float],
) -> None:  # fmt: skip
    engine = strategy_engine(KIND, variant, **refusing)

    assert engine.on_chain(make_chain()) == []


def test_a_long_butterfly_closes_at_the_target_as_the_market_pins_the_centre(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents, entered: Enter
) -> None:
    engine = strategy_engine(KIND, LONG)
    chain = make_chain(day=date(2026, 12, 2), minutes=60)
    (_,) = entered(engine, chain)

    later = make_chain(day=date(2026, 12, 7), minutes=60, spot=_atm(chain))
    (close,) = intents(engine.on_chain(later))

    assert (close.reason, len(close.legs)) == ("target", 3)


@pytest.mark.parametrize(
    ("variant", "params", "later", "reason"),
    [
        pytest.param(LONG, {}, {"spot": 27_000.0}, "stop", id="long-stop-when-the-market-runs"),
        pytest.param(IRON, {"target_profit": 0.25}, {"vol": 0.05}, "target",
                     id="iron-target-when-volatility-falls"),
        # The most an iron butterfly can lose is the width less the credit: a stop of a
        # small fraction of the (large) credit is one it can reach.
        pytest.param(IRON, {"stop_loss": 0.05}, {"spot": 26_400.0}, "stop",
                     id="iron-stop-when-the-market-runs"),
        pytest.param(IRON, {"exit_minutes_before_expiry": 60.0, "target_profit": 10.0,
                            "stop_loss": 10.0}, {"day": date(2026, 12, 8), "minutes": 330},
                     "expiry", id="iron-expiry-before-its-close"),
    ],
)  # fmt: skip
def test_a_butterfly_closes_all_its_legs_as_soon_as_an_exit_rule_fires(
    make_chain: MakeChain, strategy_engine: Engine, intents: Intents, entered: Enter,
    variant: dict[str, Any], params: dict[str, float], later: dict[str, Any], reason: str,
) -> None:  # fmt: skip
    engine = strategy_engine(KIND, variant, **params)
    (entry,) = entered(engine, make_chain(day=date(2026, 12, 7), minutes=60))

    (close,) = intents(engine.on_chain(make_chain(**{"day": date(2026, 12, 7), "minutes": 70,
                                                     **later})))  # fmt: skip

    assert (close.reason, len(close.legs)) == (reason, len(entry.legs))
