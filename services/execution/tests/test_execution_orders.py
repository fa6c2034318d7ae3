"""Orders from approved intents: slices, ids, algo id, and the reasons the broker refuses one."""

from __future__ import annotations

from execution_fixtures import (
    CALL,
    LOT,
    SECOND,
    T0,
    approved,
    chain,
    engine,
    intent,
    of_type,
)

from optbus.events import Order, OrderAccepted, OrderRejected, RiskDecision


def test_an_approved_intent_becomes_an_order_that_the_broker_accepts() -> None:
    e = engine()
    e.on_chain(chain(T0))

    events = e.on_decision(approved(intent("BUY", 2 * LOT)))

    assert [type(event) for event in events] == [Order, OrderAccepted]
    order = of_type(events, Order)[0]
    assert (order.contract, order.side, order.quantity, order.order_type) == (
        CALL, "BUY", 2 * LOT, "market",
    )  # fmt: skip


def test_every_order_carries_the_configured_algo_id() -> None:
    e = engine(algo_id="NSE-ALGO-42")
    e.on_chain(chain(T0))

    orders = of_type(e.on_decision(approved(intent("BUY", 62 * LOT))), Order)

    assert {order.algo_id for order in orders} == {"NSE-ALGO-42"}


def test_a_quantity_above_the_freeze_quantity_is_sent_as_slices_of_whole_lots() -> None:
    e = engine()
    e.on_chain(chain(T0))

    orders = of_type(e.on_decision(approved(intent("SELL", 62 * LOT))), Order)

    # NIFTY freeze 1,800 units: the largest slice in lots of 65 is 27 lots = 1,755 units.
    assert [order.quantity for order in orders] == [1_755, 1_755, 520]


def test_each_slice_has_its_own_client_order_id() -> None:
    e = engine()
    e.on_chain(chain(T0))

    orders = of_type(e.on_decision(approved(intent("SELL", 62 * LOT))), Order)

    assert len({order.client_order_id for order in orders}) == 3


def test_the_same_decision_makes_the_same_order_ids_in_another_run() -> None:
    runs = []
    for _ in range(2):
        e = engine()
        e.on_chain(chain(T0))
        runs.append([ev.event_id for ev in e.on_decision(approved(intent("BUY", LOT)))])

    assert runs[0] == runs[1]


def test_a_redelivered_decision_makes_no_new_orders() -> None:
    e = engine()
    e.on_chain(chain(T0))
    decision = approved(intent("BUY", LOT))
    e.on_decision(decision)

    assert e.on_decision(decision) == []


def test_a_rejected_intent_makes_no_orders() -> None:
    e = engine()
    e.on_chain(chain(T0))
    rejected = RiskDecision(
        event_id="d", ts_event=T0, ts_init=T0, intent=intent(), approved=False, checks=[]
    )

    assert e.on_decision(rejected) == []


def test_an_order_on_a_stale_quote_is_rejected() -> None:
    e = engine()
    e.on_chain(chain(T0))

    events = e.on_decision(approved(intent("BUY", LOT), ts=T0 + 6 * SECOND))

    assert of_type(events, OrderRejected)[0].reason.startswith("stale quote: 6000 ms old")


def test_an_order_on_a_quote_just_inside_the_age_limit_is_accepted() -> None:
    e = engine()
    e.on_chain(chain(T0))

    events = e.on_decision(approved(intent("BUY", LOT), ts=T0 + 5 * SECOND))

    assert of_type(events, OrderAccepted)


def test_an_order_for_a_contract_never_quoted_is_rejected() -> None:
    e = engine()

    events = e.on_decision(approved(intent("BUY", LOT)))

    assert of_type(events, OrderRejected)[0].reason == "no quote for the contract"


def test_a_limit_price_of_zero_can_never_fill_and_is_rejected() -> None:
    e = engine()
    e.on_chain(chain(T0))

    events = e.on_decision(approved(intent("BUY", LOT, limit_price=0.0)))

    assert of_type(events, OrderRejected)[0].reason == "limit price 0.0 can never fill"


def test_a_limit_price_off_the_tick_grid_is_rejected() -> None:
    e = engine()
    e.on_chain(chain(T0))

    events = e.on_decision(approved(intent("BUY", LOT, limit_price=120.03)))

    assert "not a multiple of the tick" in of_type(events, OrderRejected)[0].reason


def test_a_quantity_that_is_not_whole_lots_is_rejected() -> None:
    e = engine()
    e.on_chain(chain(T0))

    events = e.on_decision(approved(intent("BUY", 100)))

    assert "not a positive multiple of the lot 65" in of_type(events, OrderRejected)[0].reason


def test_a_close_without_an_open_position_is_rejected() -> None:
    e = engine()
    e.on_chain(chain(T0))

    events = e.on_decision(approved(intent("SELL", LOT, purpose="close", intent_id="x")))

    assert of_type(events, OrderRejected)[0].reason == "no open position to close"
