from dataclasses import replace
from datetime import date, datetime, time

from risk_builders import (
    CONFIG,
    DAY,
    EXPIRY,
    FACTS,
    FORWARD,
    NIFTY_LOT,
    SECOND,
    TS,
    chain,
    contract,
    env,
    mark_of,
    position,
    released_state,
)

from optbus.events import Position
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.monitor import flatten_positions, monitor_positions, retry_after_ns
from optbus_risk.state import PendingClose, RiskState, WorkingIntent

ENV = env(TS)
CHAIN = chain()
ATM = contract(FORWARD)
MARK = mark_of(CHAIN, ATM)
FLATTEN = KillSwitchState(status="engaged", operator="o", reason="r", flatten=True)


def _held(quantity: int, entry_price: float, **kwargs: object) -> Position:
    return position(ATM, quantity=quantity, average_price=entry_price, position_id="p1", **kwargs)  # type: ignore[arg-type]


def _reasons(state: RiskState, at: int = TS) -> list[str]:
    quoted = CHAIN if at == TS else chain(ts=at)
    return [i.reason for i in monitor_positions(quoted, state, env(at)).intents]


def test_a_position_within_every_rule_is_left_open() -> None:
    assert _reasons(released_state(positions=(_held(NIFTY_LOT, MARK),))) == []


def test_a_long_that_lost_its_stop_is_closed() -> None:
    reasons = _reasons(released_state(positions=(_held(NIFTY_LOT, MARK / 0.4),)))

    assert len(reasons) == 1
    assert "stop_loss" in reasons[0]


def test_a_long_that_reached_its_target_is_closed() -> None:
    reasons = _reasons(released_state(positions=(_held(NIFTY_LOT, MARK / 2.5),)))

    assert "target" in reasons[0]


def test_a_short_whose_price_rose_past_its_stop_is_closed() -> None:
    reasons = _reasons(released_state(positions=(_held(-NIFTY_LOT, MARK / 2.5),)))

    assert "stop_loss" in reasons[0]


def test_a_short_that_decayed_to_its_target_is_closed() -> None:
    reasons = _reasons(released_state(positions=(_held(-NIFTY_LOT, MARK / 0.3),)))

    assert "target" in reasons[0]


def test_a_position_held_past_the_maximum_time_is_closed() -> None:
    entered = TS - CONFIG.monitor.max_holding_ns

    reasons = _reasons(released_state(positions=(_held(NIFTY_LOT, MARK, entry_ts=entered),)))

    assert "max_holding_time" in reasons[0]


def test_a_position_is_closed_on_its_expiry_day_from_the_exit_time() -> None:
    exit_at = datetime.combine(EXPIRY, CONFIG.monitor.expiry_day_exit, tzinfo=FACTS.timezone)
    at = int(exit_at.timestamp()) * SECOND
    held = _held(NIFTY_LOT, MARK, entry_ts=at - SECOND)

    assert "expiry_day" in _reasons(released_state(positions=(held,)), at=at)[0]


def test_a_position_is_not_closed_on_its_expiry_day_before_the_exit_time() -> None:
    at = int(datetime.combine(EXPIRY, time(10, 0), tzinfo=FACTS.timezone).timestamp()) * SECOND
    held = _held(NIFTY_LOT, mark_of(chain(ts=at), ATM), entry_ts=at - SECOND)

    assert _reasons(released_state(positions=(held,)), at=at) == []


def test_a_flattening_kill_switch_closes_every_position_on_the_chain() -> None:
    state = replace(released_state(positions=(_held(NIFTY_LOT, MARK),)), kill_switch=FLATTEN)

    assert "kill_switch_flatten" in _reasons(state)[0]


def test_a_close_intent_sells_a_long_whole_at_market_for_its_strategy() -> None:
    held = _held(2 * NIFTY_LOT, MARK / 0.4)

    (close,) = monitor_positions(CHAIN, released_state(positions=(held,)), ENV).intents

    assert (close.purpose, close.strategy, close.position_ids) == ("close", "TEST", ["p1"])
    assert (close.legs[0].side, close.legs[0].quantity, close.legs[0].limit_price) == (
        "SELL", 2 * NIFTY_LOT, None,
    )  # fmt: skip


def test_a_position_with_a_close_pending_gets_no_second_close() -> None:
    state = released_state(positions=(_held(NIFTY_LOT, MARK / 0.4),))
    first = monitor_positions(CHAIN, state, ENV)

    again = monitor_positions(chain(ts=TS + SECOND), first.state, env(TS + SECOND))

    assert len(first.intents) == 1
    assert again.intents == ()


def test_a_pending_close_not_done_within_the_retry_time_is_sent_again() -> None:
    state = released_state(positions=(_held(NIFTY_LOT, MARK / 0.4),))
    first = monitor_positions(CHAIN, state, ENV)
    later = TS + CONFIG.monitor.close_retry_ns

    again = monitor_positions(chain(ts=later), first.state, env(later))

    assert len(again.intents) == 1
    assert again.intents[0].intent_id != first.intents[0].intent_id


def _after_rejections(rejections: int) -> RiskState:
    """A position whose monitor close, sent at TS, risk refused ``rejections`` times in a row."""
    state = released_state(positions=(_held(NIFTY_LOT, MARK / 0.4),))
    first = monitor_positions(CHAIN, state, ENV)
    (close,) = first.intents
    pending = PendingClose(close.intent_id, TS, rejections=rejections)
    return replace(first.state, pending_closes={"p1": pending})


def _closes_at(state: RiskState, at: int) -> int:
    return len(monitor_positions(chain(ts=at), state, env(at)).intents)


def test_a_refused_close_is_asked_again_only_after_the_order_rate_window() -> None:
    state = _after_rejections(1)
    window = CONFIG.order_rate.window_ns

    assert _closes_at(state, TS + window // 2) == 0
    assert _closes_at(state, TS + window) == 1


def test_each_refusal_in_a_row_doubles_the_wait_up_to_the_retry_time() -> None:
    window = CONFIG.order_rate.window_ns
    waits = [retry_after_ns(PendingClose("c", TS, rejections=n), CONFIG) for n in range(1, 10)]

    assert waits[:3] == [window, 2 * window, 4 * window]
    assert max(waits) == waits[-1] == CONFIG.monitor.close_retry_ns


def test_a_close_asked_again_keeps_the_count_of_refusals() -> None:
    state = _after_rejections(2)
    later = TS + 2 * CONFIG.order_rate.window_ns

    again = monitor_positions(chain(ts=later), state, env(later))

    assert again.state.pending_closes["p1"].rejections == 2
    assert again.state.pending_closes["p1"].intent_id == again.intents[0].intent_id


def test_a_position_with_an_approved_close_working_gets_no_monitor_close() -> None:
    working = WorkingIntent(
        intent_id="strategy-close", purpose="close", position_ids=("p1",), day=DAY,
        remaining={(ATM, "SELL"): NIFTY_LOT},
    )  # fmt: skip
    state = replace(
        released_state(positions=(_held(NIFTY_LOT, MARK / 0.4),)), working={"w": working}
    )

    assert monitor_positions(CHAIN, state, ENV).intents == ()


def test_positions_of_other_chains_are_left_to_their_own_chain() -> None:
    other = position(contract(FORWARD, expiry=date(2026, 12, 15)), average_price=MARK / 0.4)

    assert monitor_positions(CHAIN, released_state(positions=(other,)), ENV).intents == ()


def test_flatten_closes_every_position_at_once_shorts_first() -> None:
    held = (
        position(ATM, quantity=NIFTY_LOT, position_id="a-long"),
        position(
            contract(FORWARD, expiry=date(2026, 12, 15)), quantity=-NIFTY_LOT, position_id="b-short"
        ),
    )
    state = replace(released_state(positions=held), kill_switch=FLATTEN)

    result = flatten_positions(state, trigger_id="ks-1", ts_event=TS, env=ENV)

    assert [i.position_ids[0] for i in result.intents] == ["b-short", "a-long"]
    assert set(result.state.pending_closes) == {"a-long", "b-short"}


def test_flatten_does_nothing_unless_the_switch_says_flatten() -> None:
    state = replace(
        released_state(positions=(_held(NIFTY_LOT, MARK),)), kill_switch=KillSwitchState.unknown()
    )

    assert flatten_positions(state, trigger_id="ks", ts_event=TS, env=ENV).intents == ()


def test_close_ids_are_fixed_by_the_trigger_event() -> None:
    state = released_state(positions=(_held(NIFTY_LOT, MARK / 0.4),))

    first = monitor_positions(CHAIN, state, ENV).intents
    again = monitor_positions(CHAIN, state, ENV).intents

    assert first == again
