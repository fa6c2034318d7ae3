"""SmartAPI's order replies: documented rows decode exactly; anything else is a skipped row, a
refused or garbled reply, never an unexpected exception."""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus_brokers.angel_one.order_book import (
    ORDER_TAG_LENGTH,
    GarbledReply,
    OrderRow,
    RefusedReply,
    TradeRow,
    broker_order,
    broker_trade,
    decode_each,
    decode_reply,
    decode_rows,
    normalise_status,
    order_tag,
)
from optbus_brokers.angel_one.order_updates import decode_order_status
from optbus_brokers.orders import BrokerOrder, BrokerTrade

_IST = ZoneInfo("Asia/Kolkata")
_TEN_AM_NS = int(datetime(2026, 12, 7, 10, 0, 1, tzinfo=_IST).timestamp()) * 1_000_000_000

# SmartAPI's documented order-book row, with an option's values.
_ORDER_ROW = {
    "variety": "NORMAL", "ordertype": "LIMIT", "producttype": "CARRYFORWARD", "duration": "DAY",
    "price": 81.5, "triggerprice": 0.0, "quantity": "130", "disclosedquantity": "0",
    "tradingsymbol": "NIFTY08DEC2624000CE", "transactiontype": "SELL", "exchange": "NFO",
    "symboltoken": "40081", "ordertag": "abc", "lotsize": "65", "averageprice": 81.55,
    "filledshares": "65", "unfilledshares": "65", "orderid": 261207000000001,
    "text": "", "status": "open", "orderstatus": "open",
    "updatetime": "07-Dec-2026 10:00:01", "uniqueorderid": "u-1",
}  # fmt: skip
_TRADE_ROW = {
    "exchange": "NFO", "tradingsymbol": "NIFTY08DEC2624000CE", "transactiontype": "BUY",
    "fillprice": "81.55", "fillsize": "65", "orderid": "261207000000001", "fillid": "50000001",
    "filltime": "10:00:01",
}  # fmt: skip

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def test_a_documented_order_row_decodes_to_units_rupees_and_ist_time() -> None:
    row = msgspec.json.decode(json.dumps(_ORDER_ROW), type=OrderRow, strict=False)

    order = broker_order(row, {"abc": "client-1"}.get)

    assert order == BrokerOrder(
        broker_order_id="261207000000001",
        client_order_id="client-1",
        token="40081",
        side="sell",
        quantity=130,
        filled_quantity=65,
        limit_price=81.5,
        average_price=81.55,
        status="open",
        reason=None,
        ts_update_ns=_TEN_AM_NS,
    )


def test_a_trade_row_takes_its_day_from_the_trading_day() -> None:
    row = msgspec.json.decode(json.dumps(_TRADE_ROW), type=TradeRow, strict=False)

    trade = broker_trade(row, "40081", date(2026, 12, 7))

    assert trade == BrokerTrade(
        "50000001", "261207000000001", "40081", "buy", 65, 81.55, _TEN_AM_NS
    )


@pytest.mark.parametrize(
    ("angel", "optbus"),
    [
        ("open pending", "pending"),
        ("validation pending", "pending"),
        ("open", "open"),
        ("modified", "open"),
        ("Complete", "complete"),
        ("cancelled", "cancelled"),
        ("rejected", "rejected"),
    ],
)
def test_angel_ones_order_states_normalise(angel: str, optbus: str) -> None:
    assert normalise_status(angel) == optbus


def test_an_unknown_order_state_makes_the_row_unreadable() -> None:
    rows = decode_rows(
        json.dumps({"status": True, "data": [_ORDER_ROW | {"orderstatus": "?"}]}).encode()
    )

    decoded = decode_each(rows, OrderRow, lambda row: broker_order(row, {}.get))

    assert decoded.rows == []
    assert decoded.skipped == ["OrderRow: unknown order status '?'"]


def test_an_empty_book_is_null_in_smartapi_and_empty_here() -> None:
    assert (
        decode_rows(b'{"status": true, "message": "SUCCESS", "errorcode": "", "data": null}') == []
    )


def test_a_refusal_keeps_smartapis_code_and_message() -> None:
    with pytest.raises(RefusedReply, match="AB1013 Order not found"):
        decode_reply(
            b'{"status": false, "message": "Order not found", "errorcode": "AB1013"}', OrderRow
        )


def test_the_order_tag_fits_smartapis_limit_and_is_fixed_by_the_client_order_id() -> None:
    tag = order_tag("0b6f9a52-3c1e-5d7a-9f10-2a4b6c8d0e12")

    assert len(tag) == ORDER_TAG_LENGTH
    assert tag == order_tag("0b6f9a52-3c1e-5d7a-9f10-2a4b6c8d0e12")
    assert tag != order_tag("0b6f9a52-3c1e-5d7a-9f10-2a4b6c8d0e13")


def test_the_order_status_greeting_is_no_update() -> None:
    greeting = {"user-id": "A1", "status-code": "200", "order-status": "AB00", "orderData": {}}

    assert decode_order_status(json.dumps(greeting), {}.get) is None


@given(_JSON)
def test_any_reply_is_data_a_refusal_or_garbled(document: object) -> None:
    with contextlib.suppress(RefusedReply, GarbledReply):
        decode_reply(json.dumps(document).encode(), list[msgspec.Raw])


@given(st.lists(st.dictionaries(st.sampled_from(sorted(_ORDER_ROW)), _JSON), max_size=5))
def test_any_book_rows_are_decoded_or_skipped_with_a_reason(rows: list[dict[str, object]]) -> None:
    raw = decode_rows(json.dumps({"status": True, "data": rows}).encode())

    decoded = decode_each(raw, OrderRow, lambda row: broker_order(row, {}.get))

    assert len(decoded.rows) + len(decoded.skipped) == len(rows)


@given(st.text() | _JSON.map(json.dumps))
def test_any_order_status_message_decodes_or_is_unreadable(text: str) -> None:
    with contextlib.suppress(msgspec.DecodeError, ValueError):
        decode_order_status(text, {}.get)
