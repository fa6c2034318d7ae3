"""Short strangle: delta-chosen short legs, rolls of the untested side, target, stop, expiry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optbus.events import ChainGreeks, Event, Leg, OrderIntent
from optbus_strategy.engine import StrategyEngine

MakeChain = Callable[..., ChainGreeks]
Fill = Callable[[Iterable[Any]], list[Event]]
OPEN_ALL_DAY = {
    "min_score": 0.0, "max_days_to_expiry": 30.0, "entry_after_open_minutes": 0.0,
    "entry_before_close_minutes": 0.0,
}  # fmt: skip


def _engine(make_strategy: Any, make_engine: Any, **params: Any) -> StrategyEngine:
    engine: StrategyEngine = make_engine(
        make_strategy("short_strangle", **{**OPEN_ALL_DAY, **params})
    )
    return engine


def _intents(outputs: Iterable[Any]) -> list[OrderIntent]:
    return [o for o in outputs if isinstance(o, OrderIntent)]


def _open(engine: StrategyEngine, chain: ChainGreeks, fill: Fill) -> OrderIntent:
    outputs = engine.on_chain(chain)
    for event in fill(outputs):
        engine.handle(event)
    (intent,) = _intents(outputs)
    return intent


def _leg(intent: OrderIntent, option_type: str) -> Leg:
    return next(leg for leg in intent.legs if leg.contract.option_type == option_type)


def _eligible_deltas(
    chain: ChainGreeks, option_type: str, min_premium: float
) -> dict[float, float]:
    """|delta| by strike of the out-of-the-money options with a bid worth selling."""
    is_call = option_type == "CE"
    quotes = chain.snapshot.calls if is_call else chain.snapshot.puts
    deltas = chain.calls.delta if is_call else chain.puts.delta
    found = {}
    for i, strike in enumerate(chain.snapshot.strikes):
        otm = strike >= chain.forward if is_call else strike <= chain.forward
        delta = deltas[i]
        if (
            otm
            and delta is not None
            and quotes.bid[i] >= min_premium
            and quotes.ask[i] >= quotes.bid[i]
        ):
            found[strike] = abs(delta)
    return found


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spot=st.floats(24_000.0, 28_000.0),
    vol=st.floats(0.08, 0.5),
    skew=st.floats(-0.4, 0.0),
    day=st.sampled_from([date(2026, 12, d) for d in (1, 2, 3, 4, 7)]),
    target=st.floats(0.10, 0.25),
)
def test_each_short_leg_is_the_otm_option_nearest_its_target_delta(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any,
    spot: float, vol: float, skew: float, day: date, target: float,
) -> None:  # fmt: skip
    chain = make_chain(spot=spot, vol=vol, skew=skew, day=day)
    engine = _engine(make_strategy, make_engine, call_delta=target, put_delta=target)

    intents = _intents(engine.on_chain(chain))

    for intent in intents:
        for leg in intent.legs:
            eligible = _eligible_deltas(chain, leg.contract.option_type, 5.0)
            best = min(abs(d - target) for d in eligible.values())
            assert leg.side == "SELL"
            assert leg.contract.strike in eligible
            assert abs(eligible[leg.contract.strike] - target) == best


def test_an_entry_sells_one_call_and_one_put_around_the_forward(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    chain = make_chain()

    (intent,) = _intents(_engine(make_strategy, make_engine).on_chain(chain))

    call, put = _leg(intent, "CE"), _leg(intent, "PE")
    assert (call.side, put.side) == ("SELL", "SELL")
    assert put.contract.strike < chain.forward < call.contract.strike


def test_no_entry_is_made_while_the_iv_percentile_is_below_the_floor(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, min_iv_percentile=0.9)

    assert engine.on_chain(make_chain()) == []


def test_the_strangle_closes_at_the_target_profit(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    entry = _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, vol=0.06)))

    assert (close.purpose, close.reason, close.group_id) == ("close", "target", entry.group_id)
    assert sorted(leg.side for leg in close.legs) == ["BUY", "BUY"]


def test_the_strangle_closes_at_the_stop(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    _open(engine, make_chain(minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=70, spot=26_900.0)))

    assert close.reason == "stop"


def test_the_strangle_closes_before_expiry(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, exit_minutes_before_expiry=60.0)
    _open(engine, make_chain(day=date(2026, 12, 7), minutes=60), fill)

    (close,) = _intents(engine.on_chain(make_chain(day=date(2026, 12, 8), minutes=330)))

    assert close.reason == "expiry"


def test_a_rally_rolls_the_untested_put_up_within_the_group(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, max_net_delta=0.2)
    entry = _open(engine, make_chain(minutes=60), fill)

    close, reopen = _intents(engine.on_chain(make_chain(minutes=70, spot=26_300.0)))

    old_put = _leg(entry, "PE")
    assert [(leg.contract, leg.side) for leg in close.legs] == [(old_put.contract, "BUY")]
    assert (reopen.purpose, reopen.group_id) == ("open", entry.group_id)
    assert _leg(reopen, "PE").contract.strike > old_put.contract.strike


def test_rolls_stop_at_the_maximum_number_of_adjustments(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, max_net_delta=0.2, max_adjustments=0)
    _open(engine, make_chain(minutes=60), fill)

    assert _intents(engine.on_chain(make_chain(minutes=70, spot=26_300.0))) == []


RBI_POLICY_DAY = date(2025, 12, 5)  # an RBI policy decision on the event calendar


def test_no_entry_is_taken_on_a_day_whose_event_the_strategy_avoids(
    make_strategy: Any, make_engine: Any, make_chain: MakeChain
) -> None:
    engine = _engine(make_strategy, make_engine, no_entry_on_events=["rbi_policy"])
    chain = make_chain(day=RBI_POLICY_DAY, expiry=date(2025, 12, 16))

    assert _intents(engine.on_chain(chain)) == []


def test_an_entry_is_taken_on_an_event_day_the_strategy_does_not_avoid(
    make_strategy: Any, make_engine: Any, make_chain: MakeChain
) -> None:
    engine = _engine(make_strategy, make_engine, no_entry_on_events=["union_budget"])
    chain = make_chain(day=RBI_POLICY_DAY, expiry=date(2025, 12, 16))

    assert len(_intents(engine.on_chain(chain))) == 1
