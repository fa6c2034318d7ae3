"""The kill switch: working orders cancelled, opening orders refused, flatten at market."""

from __future__ import annotations

from execution_fixtures import (
    LOT,
    PUT,
    SECOND,
    T0,
    approved,
    chain,
    engine,
    intent,
    of_type,
    submit_and_fill,
)

from optbus.events import (
    Fill,
    KillSwitchCommand,
    KillSwitchEngaged,
    KillSwitchReleased,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderIntent,
    OrderRejected,
    TradeClosed,
)
from optbus_execution.handlers import on_engaged, on_kill_switch, on_released
from optbus_execution.positions import flatten_intents

LATER = T0 + 60 * SECOND


def test_engaging_cancels_every_working_order() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", LOT, limit_price=100.0), T0)

    events = e.on_kill_switch(engaged=True, reason="drill")

    assert [c.reason for c in of_type(events, OrderCancelled)] == ["kill switch engaged: drill"]
    assert e.working_orders() == []


def test_an_opening_order_is_rejected_while_the_switch_is_engaged() -> None:
    e = engine()
    e.on_chain(chain(T0))
    e.on_kill_switch(engaged=True, reason="drill")

    events = e.on_decision(approved(intent("BUY", LOT)))

    assert of_type(events, OrderRejected)[0].reason == (
        "kill switch engaged: opening orders are refused"
    )


def test_a_closing_order_is_still_accepted_while_the_switch_is_engaged() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", LOT), T0)
    e.on_kill_switch(engaged=True, reason="drill")
    close = intent("SELL", LOT, purpose="close", intent_id="stop", reason="stop loss")
    e.on_chain(chain(LATER))

    events = e.on_decision(approved(close, LATER))

    assert of_type(events, OrderAccepted)


def test_release_lets_opening_orders_through_again() -> None:
    e = engine()
    e.on_chain(chain(T0))
    e.on_kill_switch(engaged=True)
    e.on_kill_switch(engaged=False)

    events = e.on_decision(approved(intent("BUY", LOT)))

    assert of_type(events, OrderAccepted)


def test_flatten_sends_a_close_at_market_for_every_position() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", LOT), T0)
    submit_and_fill(e, intent("SELL", 2 * LOT, contract=PUT, intent_id="put"), T0 + SECOND)

    events = e.on_kill_switch(engaged=True, flatten=True, reason="drill")

    orders = of_type(events, Order)
    assert sorted((o.side, o.quantity, o.order_type, o.purpose) for o in orders) == [
        ("BUY", 2 * LOT, "market", "close"), ("SELL", LOT, "market", "close"),
    ]  # fmt: skip
    assert len(of_type(events, OrderIntent)) == 2


def test_a_flattened_position_closes_on_the_next_quote_with_the_kill_switch_reason() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", LOT), T0)
    e.on_chain(chain(LATER))
    e.on_kill_switch(engaged=True, flatten=True, reason="drill")

    events = e.on_chain(chain(LATER + SECOND, bid=90.0, ask=90.5))

    trade = of_type(events, TradeClosed)[0]
    assert (trade.exit_price, trade.exit_reason) == (90.0, "kill switch flatten: drill")
    assert e.positions() == []


def test_engaging_twice_with_flatten_never_closes_more_than_is_open() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", LOT), T0)
    e.on_kill_switch(engaged=True, flatten=True, reason="one")
    e.on_kill_switch(engaged=True, flatten=True, reason="two")

    events = e.on_chain(chain(T0 + SECOND))

    assert sum(f.quantity for f in of_type(events, Fill)) == LOT
    assert e.positions() == []


def test_flatten_intents_name_their_position_and_take_the_opposite_side() -> None:
    e = engine()
    submit_and_fill(e, intent("SELL", 3 * LOT), T0)
    position = e.positions()[0]

    (close,) = flatten_intents([position], LATER, "flatten")

    assert (close.purpose, close.position_ids, close.legs[0].side, close.legs[0].quantity) == (
        "close", [position.position_id], "BUY", 3 * LOT,
    )  # fmt: skip
    assert close.legs[0].limit_price is None


def test_an_operators_release_command_alone_leaves_execution_halted() -> None:
    e = engine()
    on_kill_switch(KillSwitchCommand(action="engage", reason="drill"), e, "execution")

    on_kill_switch(KillSwitchCommand(action="release", reason="done"), e, "execution")

    assert e.halted


def test_risks_release_lets_execution_take_opening_orders_again() -> None:
    e = engine()
    on_kill_switch(KillSwitchCommand(action="engage", reason="drill"), e, "execution")
    released = KillSwitchReleased(
        event_id="r", ts_event=T0, ts_init=T0, operator="asha", reason="done"
    )

    on_released(released, e, "execution")

    assert not e.halted


def test_risks_engage_halts_execution_as_the_command_itself_would() -> None:
    e = engine()
    engaged = KillSwitchEngaged(
        event_id="e", ts_event=T0, ts_init=T0, operator="alice", reason="drill", flatten=False
    )

    on_engaged(engaged, e, "execution")

    assert e.halted
