"""A real broker's order book and trades become exec.* events, each exactly once."""

from __future__ import annotations

from execution_fixtures import CALL, FACTS, LOT, T0, approved, chain, engine, intent, of_type
from hypothesis import given
from hypothesis import strategies as st

from optbus.clock import ReplayClock
from optbus.events import (
    BrokerChargesReported,
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
)
from optbus_brokers.orders import BrokerCharges, BrokerOrder, BrokerOrderStatus, BrokerTrade
from optbus_execution.broker_reports import BrokerReports


def _order() -> Order:
    live = engine()
    live.on_chain(chain(T0))
    return of_type(live.on_decision(approved(intent(quantity=2 * LOT))), Order)[0]


def _reports(order: Order) -> BrokerReports:
    reports = BrokerReports("angel-one", FACTS, ReplayClock(T0), brokerage_per_order=20.0)
    reports.track(order)
    return reports


def _row(order: Order, status: BrokerOrderStatus, reason: str | None = None) -> BrokerOrder:
    return BrokerOrder(
        broker_order_id="B1", client_order_id=order.client_order_id, token="43650",
        side="buy", quantity=order.quantity, filled_quantity=0, limit_price=126.5,
        average_price=None, status=status, reason=reason, ts_update_ns=T0,
    )  # fmt: skip


def _trade(trade_id: str, quantity: int = LOT, order_id: str = "B1") -> BrokerTrade:
    return BrokerTrade(
        broker_trade_id=trade_id, broker_order_id=order_id, token="43650", side="buy",
        quantity=quantity, price=120.5, ts_exchange_ns=T0 + 1,
    )  # fmt: skip


def test_the_brokers_order_id_is_an_acceptance() -> None:
    order = _order()
    [accepted] = _reports(order).accepted(order.client_order_id, "B1")
    assert isinstance(accepted, OrderAccepted)
    assert accepted.broker_order_id == "B1"


def test_an_order_seen_again_in_the_order_book_is_not_accepted_twice() -> None:
    order = _order()
    reports = _reports(order)
    reports.accepted(order.client_order_id, "B1")
    assert reports.on_update(_row(order, "open")) == []


def test_a_broker_rejection_carries_the_brokers_reason() -> None:
    order = _order()
    [rejected] = _reports(order).on_update(_row(order, "rejected", "Insufficient funds"))
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason == "angel-one: Insufficient funds"


def test_a_cancellation_at_the_broker_ends_the_order() -> None:
    order = _order()
    reports = _reports(order)
    events = reports.on_update(_row(order, "cancelled"))
    assert [type(e) for e in events] == [OrderAccepted, OrderCancelled]


def test_a_trade_is_a_fill_named_by_the_brokers_trade_id() -> None:
    order = _order()
    reports = _reports(order)
    reports.accepted(order.client_order_id, "B1")
    [fill] = reports.on_update(_trade("T1"))
    assert isinstance(fill, Fill)
    assert fill.fill_id == "angel-one:T1"
    assert (fill.quantity, fill.price, fill.contract) == (LOT, 120.5, CALL)


def test_only_an_orders_first_fill_pays_the_brokerage() -> None:
    order = _order()
    reports = _reports(order)
    reports.accepted(order.client_order_id, "B1")
    first, second = (of_type(reports.on_update(_trade(t)), Fill)[0] for t in ("T1", "T2"))
    assert (first.charges.brokerage, second.charges.brokerage) == (20.0, 0.0)


def test_a_trade_seen_again_is_not_a_second_fill() -> None:
    order = _order()
    reports = _reports(order)
    reports.accepted(order.client_order_id, "B1")
    reports.on_update(_trade("T1"))
    assert reports.on_update(_trade("T1")) == []


def test_a_trade_of_an_order_optbus_never_placed_is_kept_for_reconciliation() -> None:
    order = _order()
    reports = _reports(order)
    stranger = _trade("T9", order_id="B-ELSEWHERE")
    assert reports.on_update(stranger) == []
    assert reports.strangers == [stranger]


@given(st.lists(st.sampled_from(["T1", "T2", "T3"]), max_size=12))
def test_however_often_trades_are_repeated_each_is_one_fill(trade_ids: list[str]) -> None:
    order = _order()
    reports = _reports(order)
    reports.accepted(order.client_order_id, "B1")
    fills = [e for t in trade_ids for e in reports.on_update(_trade(t)) if isinstance(e, Fill)]
    assert sorted(f.fill_id for f in fills) == sorted(f"angel-one:{t}" for t in set(trade_ids))


def _contract_note(total_brokerage: float) -> BrokerCharges:
    return BrokerCharges(
        broker_order_id="B1", brokerage=total_brokerage, exchange_charges=5.48, sebi_fee=0.02,
        stt=0.0, stamp_duty=0.46, gst=4.6,
    )  # fmt: skip


def _filled_reports() -> tuple[BrokerReports, Order]:
    order = _order()
    reports = _reports(order)
    reports.accepted(order.client_order_id, "B1")
    reports.on_update(_trade("T1", quantity=LOT))
    reports.on_update(_trade("T2", quantity=LOT))
    return reports, order


def test_an_order_is_filled_once_its_trades_cover_it() -> None:
    reports, order = _filled_reports()
    assert reports.is_filled(order.client_order_id)


def test_the_brokers_charges_within_a_rupee_of_optbus_are_not_flagged() -> None:
    reports, order = _filled_reports()
    [report] = reports.charges_reported(order.client_order_id, _contract_note(20.9))
    assert isinstance(report, BrokerChargesReported)
    assert (report.broker.brokerage, report.optbus.brokerage) == (20.9, 20.0)
    assert report.difference == 0.9
    assert not report.flagged


def test_the_brokers_charges_more_than_a_rupee_above_optbus_are_flagged() -> None:
    reports, order = _filled_reports()
    [report] = reports.charges_reported(order.client_order_id, _contract_note(40.0))
    assert isinstance(report, BrokerChargesReported)
    assert report.difference > 1.0
    assert report.flagged
