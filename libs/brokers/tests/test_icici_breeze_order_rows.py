"""Breeze's order API rows: its answers in, optbus's orders, trades and positions out, and any
other input an ``UnreadableAnswer`` naming the field, never another exception."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus_brokers.feed import Instrument
from optbus_brokers.icici_breeze.order_rows import (
    ContractKey,
    UnreadableAnswer,
    contract_key,
    decode_execution,
    decode_fno_margin,
    decode_order,
    decode_position,
    placement,
)
from optbus_brokers.orders import BrokerOrder, OrderRequest

CALL = Instrument(
    "35081", "NFO", "OPT-NIFTY-08-Dec-2026-24000-CE", "NIFTY", "call", date(2026, 12, 8),
    24_000.0, 65, 0.05,
)  # fmt: skip
TOKENS: dict[ContractKey, str] = {contract_key(CALL): CALL.token}
PLACED_NS = int(datetime(2026, 12, 7, 10, 0, 5, tzinfo=ZoneInfo("Asia/Kolkata")).timestamp()) * (
    1_000_000_000
)


def _order_row(**changes: object) -> dict[str, object]:
    return {
        "order_id": "20261207N300000001",
        "exchange_code": "NFO",
        "stock_code": "NIFTY",
        "product_type": "Options",
        "action": "Buy",
        "order_type": "Limit",
        "quantity": "195",
        "price": "102.60",
        "average_price": "102.60",
        "cancelled_quantity": "0",
        "pending_quantity": "65",
        "status": "Partially Executed",
        "user_remark": "opt-1",
        "order_datetime": "07-Dec-2026 10:00:05",
        "expiry_date": "08-Dec-2026",
        "right": "Call",
        "strike_price": 24000.0,
    } | changes


def test_a_placement_is_a_day_limit_order_naming_the_contract_as_breeze_does() -> None:
    body = placement(OrderRequest("opt-1", CALL, "sell", 130, 102.6, algo_id="ALGO1"))
    assert body == {
        "stock_code": "NIFTY",
        "exchange_code": "NFO",
        "product": "options",
        "action": "sell",
        "order_type": "limit",
        "quantity": "130",
        "price": "102.60",
        "validity": "day",
        "user_remark": "opt-1",
        "expiry_date": "2026-12-08T06:00:00.000Z",
        "right": "call",
        "strike_price": "24000",
    }


def test_an_order_row_is_decoded_with_its_fills_and_client_order_id() -> None:
    assert decode_order(_order_row(), TOKENS) == BrokerOrder(
        broker_order_id="20261207N300000001",
        client_order_id="opt-1",
        token="35081",
        side="buy",
        quantity=195,
        filled_quantity=130,
        limit_price=102.6,
        average_price=102.6,
        status="open",
        reason=None,
        ts_update_ns=PLACED_NS,
    )


@pytest.mark.parametrize(
    ("breeze", "optbus"),
    [
        ("Requested", "pending"),
        ("Queued", "pending"),
        ("Freezed", "pending"),
        ("Ordered", "open"),
        ("Partially Executed", "open"),
        ("Executed", "complete"),
        ("Cancelled", "cancelled"),
        ("Expired", "cancelled"),
        ("Partially Executed And Cancelled", "cancelled"),
        ("Partially Executed And Expired", "cancelled"),
        ("Rejected", "rejected"),
    ],
)
def test_each_breeze_status_has_its_optbus_status(breeze: str, optbus: str) -> None:
    order = decode_order(_order_row(status=breeze), TOKENS)
    assert order is not None
    assert order.status == optbus


def test_an_order_whose_status_breeze_never_names_is_unreadable() -> None:
    with pytest.raises(UnreadableAnswer, match="status"):
        decode_order(_order_row(status="Teleported"), TOKENS)


def test_an_order_of_another_exchange_is_passed_over() -> None:
    assert decode_order(_order_row(exchange_code="NSE"), TOKENS) is None


def test_an_order_of_a_contract_missing_from_the_master_is_unreadable() -> None:
    with pytest.raises(UnreadableAnswer, match="security master"):
        decode_order(_order_row(strike_price=99_999.0), TOKENS)


def test_a_short_position_is_a_negative_net_quantity() -> None:
    row = _order_row(action="Sell", quantity="130", average_price="101.5")
    position = decode_position(row, TOKENS)
    assert position is not None
    assert (position.token, position.net_quantity, position.average_price) == ("35081", -130, 101.5)


def test_an_execution_takes_the_token_and_order_id_of_its_order() -> None:
    order = decode_order(_order_row(), TOKENS)
    assert order is not None
    row = {
        "exchange_trade_id": "12345678",
        "executed_quantity": "130",
        "action": "B",
        "execution_price": "102.60",
        "execution_time": "07-Dec-2026 10:00:05",
    }
    trade = decode_execution(row, order)
    assert (trade.broker_trade_id, trade.token, trade.side, trade.quantity, trade.price) == (
        "12345678",
        "35081",
        "buy",
        130,
        102.6,
    )
    assert trade.ts_exchange_ns == PLACED_NS


def test_the_free_fno_margin_is_the_allocation_less_what_trades_block() -> None:
    assert (
        decode_fno_margin({"allocated_fno": 500_000.0, "block_by_trade_fno": "6669"}) == 493_331.0
    )


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_json_like = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(_json_like)
def test_any_answer_is_decoded_or_unreadable_never_another_exception(answer: object) -> None:
    order = decode_order(_order_row(), TOKENS)
    assert order is not None
    for decode in (
        lambda: decode_order(answer, TOKENS),
        lambda: decode_position(answer, TOKENS),
        lambda: decode_execution(answer, order),
        lambda: decode_fno_margin(answer),
    ):
        with contextlib.suppress(UnreadableAnswer):
            decode()


@given(st.sampled_from(sorted(_order_row())), _scalars)
def test_any_field_of_an_order_row_changed_decodes_or_is_unreadable(
    name: str, value: object
) -> None:
    with contextlib.suppress(UnreadableAnswer):
        decode_order(_order_row(**{name: value}), TOKENS)
