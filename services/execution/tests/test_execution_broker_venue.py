"""The broker venue's synchronous side: what it queues for the broker and what it refuses now."""

from __future__ import annotations

from execution_fixtures import EXPIRY, FACTS, LOT, PUT, T0, approved, chain, config, intent

from optbus.clock import ReplayClock
from optbus.events import Order, OrderRejected
from optbus_brokers.feed import Instrument
from optbus_brokers.orders import BrokerTrade
from optbus_execution.broker_reports import BrokerReports
from optbus_execution.broker_venue import BrokerVenue, InstrumentIndex
from optbus_execution.engine import ExecutionEngine

CALL_INSTRUMENT = Instrument(
    token="43650", segment="NFO", symbol="NIFTY08DEC2626000CE", underlying="NIFTY",
    kind="call", expiry=EXPIRY, strike=26_000.0, lot_size=LOT, tick_size=0.05,
)  # fmt: skip


def _live() -> tuple[ExecutionEngine, BrokerVenue]:
    clock = ReplayClock(T0)
    reports = BrokerReports("angel-one", FACTS, clock, brokerage_per_order=20.0)
    holder: list[ExecutionEngine] = []
    venue = BrokerVenue(
        reports,
        InstrumentIndex([CALL_INSTRUMENT]),
        FACTS,
        lambda contract: holder[0].state.book.quote(contract),
        lambda intent_id: holder[0].state.margins.get(intent_id),
        protection=0.05,
    )
    engine = ExecutionEngine(config().execution(), venue, clock, FACTS)
    holder.append(engine)
    engine.on_chain(chain(T0, bid=119.5, ask=120.5))
    return engine, venue


def test_an_order_is_queued_for_the_broker_and_not_answered_yet() -> None:
    engine, venue = _live()
    events = engine.on_decision(approved(intent()))
    assert [type(e) for e in events] == [Order]
    assert [item.order.client_order_id for item in venue.outbox] == [events[0].client_order_id]


def test_a_market_order_goes_to_the_broker_as_a_protected_limit() -> None:
    engine, venue = _live()
    engine.on_decision(approved(intent()))
    [item] = venue.outbox
    assert item.request is not None
    assert (item.request.side, item.request.limit_price) == ("buy", 126.5)
    assert item.request.instrument == CALL_INSTRUMENT
    assert item.request.algo_id == "ALGO-TEST-1"


def test_a_market_order_records_the_protected_limit_it_is_sent_at() -> None:
    engine, _venue = _live()
    [order] = engine.on_decision(approved(intent()))
    assert isinstance(order, Order)
    assert (order.order_type, order.limit_price) == ("market", 126.5)


def test_an_explicit_limit_is_sent_as_it_is() -> None:
    engine, venue = _live()
    engine.on_decision(approved(intent(limit_price=121.0)))
    assert venue.outbox[0].request is not None
    assert venue.outbox[0].request.limit_price == 121.0


def test_a_contract_the_broker_does_not_list_is_refused_at_once() -> None:
    engine, venue = _live()
    events = engine.on_decision(approved(intent(contract=PUT)))
    [rejected] = [e for e in events if isinstance(e, OrderRejected)]
    assert rejected.reason == "angel-one: the broker lists no such instrument"
    assert not venue.outbox


def test_an_opening_order_is_refused_while_the_broker_is_down() -> None:
    engine, venue = _live()
    venue.unavailable = "placement unanswered: timeout"
    events = engine.on_decision(approved(intent()))
    [rejected] = [e for e in events if isinstance(e, OrderRejected)]
    assert "broker unavailable, opening orders refused" in rejected.reason
    assert not venue.outbox


def test_a_freeze_quantity_above_goes_out_as_slices() -> None:
    engine, venue = _live()
    engine.on_decision(approved(intent(quantity=28 * LOT)))
    assert [item.order.quantity for item in venue.outbox] == [27 * LOT, LOT]


def test_a_flatten_closes_a_position_through_the_broker_as_a_protected_sell() -> None:
    engine, venue = _live()
    [order] = [e for e in engine.on_decision(approved(intent())) if isinstance(e, Order)]
    venue.outbox.clear()
    engine.on_report(venue.reports.accepted(order.client_order_id, "B1")[0])
    engine.on_chain(chain(T0 + 10**9, bid=119.5, ask=120.5))
    trade = BrokerTrade(
        broker_trade_id="T1", broker_order_id="B1", token="43650", side="buy",
        quantity=LOT, price=120.5, ts_exchange_ns=T0 + 10**9,
    )  # fmt: skip
    for report in venue.reports.on_update(trade):
        engine.on_report(report)
    engine.on_kill_switch(True, flatten=True, reason="test")
    [close] = venue.outbox
    assert close.request is not None
    assert (close.order.purpose, close.request.side) == ("close", "sell")
    assert close.request.limit_price == 113.55
