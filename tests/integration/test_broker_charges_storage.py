"""What a live broker charged, stored beside optbus's figures: one `broker_charges` row per
reported order, and per trade the broker's total of its orders beside optbus's, flagged above
one rupee (the `trade_charges` view); and the margin risk computed for an approved intent, which
the broker's available margin was checked against."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from optbus.events import (
    BrokerChargesReported,
    Charges,
    Contract,
    Event,
    Fill,
    Leg,
    MarketContext,
    Order,
    OrderIntent,
    RiskDecision,
    TradeClosed,
)
from optbus_persistence.schema import migrate

from ..conftest import fresh_database
from .conftest import query_one, store_trading_events

pytestmark = pytest.mark.integration

CALL = Contract(underlying="NIFTY", expiry=date(2026, 12, 8), strike=26_000.0, option_type="CE")
ENTRY_NS = 1_796_700_000 * 10**9
EXIT_NS = ENTRY_NS + 600 * 10**9


def _charges(total: float) -> Charges:
    return Charges(
        brokerage=20.0, stt=0.0, exchange_transaction=total - 20.0, sebi=0.0, stamp_duty=0.0,
        gst=0.0,
    )  # fmt: skip


def _order_and_fill(name: str, group: str, purpose: str, at_ns: int, charged: float) -> list[Event]:
    side = "BUY" if purpose == "open" else "SELL"
    order = Order(
        event_id=f"order-{name}", ts_event=at_ns, ts_init=at_ns, client_order_id=name,
        algo_id="ALGO", intent_id=f"intent-{name}", group_id=group, strategy="test",
        purpose=purpose, contract=CALL, side=side, quantity=65, order_type="limit",  # type: ignore[arg-type]
        limit_price=120.0,
    )  # fmt: skip
    fill = Fill(
        event_id=f"fill-{name}", ts_event=at_ns, ts_init=at_ns, fill_id=f"angel-one:{name}",
        client_order_id=name, contract=CALL, side=side, quantity=65, price=120.0, bid=119.5,  # type: ignore[arg-type]
        ask=120.5, charges=_charges(charged),
    )  # fmt: skip
    return [order, fill]


def _reported(name: str, broker: float, optbus: float) -> BrokerChargesReported:
    difference = round(broker - optbus, 2)
    return BrokerChargesReported(
        event_id=f"charges-{name}", ts_event=EXIT_NS + 1, ts_init=EXIT_NS + 1,
        client_order_id=name, broker_order_id=f"B-{name}", venue="angel-one",
        broker=_charges(broker), optbus=_charges(optbus), difference=difference,
        flagged=abs(difference) > 1.0,
    )  # fmt: skip


def _trade(group: str, charges: float) -> TradeClosed:
    def context(ts: int) -> MarketContext:
        return MarketContext(
            ts=ts, option_price=120.0, iv=None, delta=None, gamma=None, theta=None, vega=None,
            spot=26_000.0, forward=26_000.0, india_vix=None, pcr=None, open_interest=0,
        )  # fmt: skip

    return TradeClosed(
        event_id=f"trade-{group}", ts_event=EXIT_NS, ts_init=EXIT_NS, trade_id=f"trade-{group}",
        position_id=f"position-{group}", strategy="test", group_id=group, contract=CALL,
        quantity=65, entry_price=120.0, exit_price=120.0, entry=context(ENTRY_NS),
        exit=context(EXIT_NS), model=None, exit_reason="test", gross_pnl=0.0, charges=charges,
        net_pnl=-charges,
    )  # fmt: skip


def _approval(margin_required: float) -> RiskDecision:
    entry = OrderIntent(
        event_id="intent-entry", ts_event=ENTRY_NS, ts_init=ENTRY_NS, intent_id="intent-entry",
        group_id="g1", strategy="test", purpose="open", reason="test",
        legs=[Leg(contract=CALL, side="BUY", quantity=65, limit_price=None)],
    )  # fmt: skip
    return RiskDecision(
        event_id="decision-entry", ts_event=ENTRY_NS, ts_init=ENTRY_NS, intent=entry,
        approved=True, checks=[], margin_required=margin_required,
    )  # fmt: skip


@pytest.fixture(scope="module")
def stored(postgres_admin_url: str) -> Iterator[str]:
    """A live trade whose entry and exit the broker reported (the exit Rs 2 above optbus's
    figure, the entry Rs 0.50 below), and a trade the broker reported nothing for."""
    with fresh_database(postgres_admin_url, f"optbus_broker_charges_{os.getpid()}") as url:
        migrate(url)
        events: list[Event] = [
            _approval(7_800.0),
            *_order_and_fill("entry", "g1", "open", ENTRY_NS, 30.5),
            *_order_and_fill("exit", "g1", "close", EXIT_NS, 43.0),
            _trade("g1", 73.5),
            *_order_and_fill("other", "g2", "open", ENTRY_NS, 30.5),
            _trade("g2", 61.0),
            _reported("entry", broker=30.0, optbus=30.5),
            _reported("exit", broker=45.0, optbus=43.0),
        ]
        store_trading_events(url, events)
        yield url


def test_each_reported_order_is_a_row_beside_optbus_figure_flagged_above_a_rupee(
    stored: str,
) -> None:
    with psycopg.connect(stored) as conn:
        rows = conn.execute(
            "SELECT client_order_id, broker_total, optbus_total, flagged FROM broker_charges "
            "ORDER BY client_order_id"
        ).fetchall()
    assert rows == [("entry", 30.0, 30.5, False), ("exit", 45.0, 43.0, True)]


def test_a_trade_shows_the_brokers_charges_of_its_orders_beside_optbus(stored: str) -> None:
    with psycopg.connect(stored) as conn:
        rows = conn.execute(
            "SELECT trade_id, charges, orders_reported, broker_charges, optbus_charges, "
            "difference, flagged FROM trade_charges"
        ).fetchall()
    assert rows == [("trade-g1", 73.5, 2, 75.0, 73.5, 1.5, True)]


def test_an_approval_is_stored_with_the_margin_risk_computed(stored: str) -> None:
    assert query_one(stored, "SELECT intent_id, margin_required FROM risk_decisions") == (
        "intent-entry", 7_800.0,
    )  # fmt: skip


def test_migrating_again_keeps_the_brokers_charges(stored: str) -> None:
    migrate(stored)
    assert query_one(stored, "SELECT count(*) FROM trade_charges WHERE flagged") == (1,)
