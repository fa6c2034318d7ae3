"""Kotak Neo's order-book, trade-book and position rows: read when whole, skipped with a
reason when not, never a crash."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from optbus_brokers.kotak_neo.book import (
    IST,
    ORDER_STATES,
    Unreadable,
    decode_order,
    decode_order_feed_message,
    decode_position,
    decode_trade,
)
from optbus_brokers.orders import BrokerOrder, BrokerPosition, BrokerTrade

FIELDS = [
    "nOrdNo", "ordSt", "tok", "trnsTp", "qty", "fldQty", "prc", "avgPrc", "rejRsn", "GuiOrdId",
    "hsUpTm", "ordDtTm", "flId", "exTm", "exSeg", "trdSym", "flBuyQty", "flSellQty", "cfBuyQty",
    "cfSellQty", "buyAmt", "sellAmt", "cfBuyAmt", "cfSellAmt",
]  # fmt: skip
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    # An explicit alphabet: no Unicode table to build, so the first run is not slow.
    st.text(alphabet="ab BS-:/.eE0123456789", max_size=24),
    st.sampled_from(["B", "S", "nse_fo", "complete", "open", "2026/12/07 10:00:00", "1e400"]),
    st.lists(st.integers(), max_size=2),
)
ROWS = st.dictionaries(st.sampled_from(FIELDS), VALUES)
FAST = settings(max_examples=300, deadline=None)
MOMENT = datetime(2026, 12, 7, 10, 0, 5, tzinfo=IST)
MOMENT_NS = int(MOMENT.timestamp()) * 1_000_000_000


@FAST
@given(ROWS)
def test_any_order_row_is_an_order_or_a_reason(row: dict[str, object]) -> None:
    assert isinstance(decode_order(row), BrokerOrder | Unreadable)


@FAST
@given(ROWS)
def test_any_trade_row_is_a_trade_or_a_reason(row: dict[str, object]) -> None:
    assert isinstance(decode_trade(row), BrokerTrade | Unreadable)


@FAST
@given(ROWS)
def test_any_position_row_is_a_position_nothing_or_a_reason(row: dict[str, object]) -> None:
    assert isinstance(decode_position(row), BrokerPosition | Unreadable | None)


@FAST
@given(
    st.one_of(
        st.binary(max_size=64),
        st.text(alphabet='{}[]":, abcnoprtyek0123456789', max_size=64),
        st.builds(
            lambda kind, data: json.dumps({"type": kind, "data": data}),
            st.sampled_from(["order", "position", "cn", "other"]),
            st.one_of(ROWS, VALUES),
        ),
    )
)
def test_any_order_feed_frame_is_an_order_nothing_or_a_reason(frame: str | bytes) -> None:
    assert isinstance(decode_order_feed_message(frame), BrokerOrder | Unreadable | None)


def test_the_order_feeds_acknowledgement_and_position_messages_are_nothing_to_read() -> None:
    ack = decode_order_feed_message('{"type": "cn", "ak": "ok"}')
    position = decode_order_feed_message('{"type": "position", "data": {"flBuyQty": "65"}}')

    assert (ack, position) == (None, None)


@given(
    state=st.sampled_from(sorted(ORDER_STATES)),
    lots=st.integers(1, 40),
    filled_lots=st.integers(0, 40),
    paise=st.integers(5, 10_000_000),
    tag=st.text(alphabet="abc-0123456789", min_size=1, max_size=20),
)
def test_a_whole_order_row_reads_back_its_values(
    state: str, lots: int, filled_lots: int, paise: int, tag: str
) -> None:
    quantity, filled = lots * 65, min(filled_lots, lots) * 65
    row = {
        "nOrdNo": 261207000000001, "ordSt": state.upper(), "tok": "40123", "trnsTp": "S",
        "qty": quantity, "fldQty": str(filled), "prc": f"{paise / 100:.2f}",
        "avgPrc": f"{paise / 100:.2f}", "rejRsn": "why", "GuiOrdId": tag,
        "hsUpTm": f"{MOMENT:%Y/%m/%d %H:%M:%S}",
    }  # fmt: skip

    order = decode_order(row)

    assert isinstance(order, BrokerOrder)
    assert (order.broker_order_id, order.client_order_id, order.status) == (
        "261207000000001",
        tag,
        ORDER_STATES[state],
    )
    assert (order.side, order.quantity, order.filled_quantity) == ("sell", quantity, filled)
    assert order.limit_price == paise / 100
    assert order.average_price == (paise / 100 if filled else None)
    assert order.ts_update_ns == MOMENT_NS


def test_an_unknown_order_state_is_skipped_with_its_name() -> None:
    row = {"nOrdNo": "1", "ordSt": "teleported", "tok": "1", "trnsTp": "B", "qty": 1, "prc": 1}

    assert decode_order(row) == Unreadable("unknown order state 'teleported'")


def test_a_trade_time_in_the_trade_books_layout_is_read_as_ist() -> None:
    row = {
        "flId": "7", "nOrdNo": "1", "tok": "40001", "trnsTp": "B", "fldQty": "65",
        "avgPrc": "101.35", "exTm": f"{MOMENT:%d-%b-%Y %H:%M:%S}",
    }  # fmt: skip

    trade = decode_trade(row)

    assert isinstance(trade, BrokerTrade)
    assert (trade.ts_exchange_ns, trade.price, trade.quantity) == (MOMENT_NS, 101.35, 65)


def test_a_short_position_averages_what_it_sold_for_carried_and_today() -> None:
    row = {
        "exSeg": "nse_fo", "tok": "40001", "trdSym": "NIFTY26D0824000CE", "flSellQty": "65",
        "sellAmt": "6500.00", "cfSellQty": "65", "cfSellAmt": "7800.00", "flBuyQty": "0",
    }  # fmt: skip

    assert decode_position(row) == BrokerPosition("40001", "NIFTY26D0824000CE", -130, 110.0)


def test_a_flat_or_cash_position_is_no_fo_position() -> None:
    flat = {"exSeg": "nse_fo", "flBuyQty": "65", "flSellQty": "65", "tok": "1", "trdSym": "X"}
    cash = {"exSeg": "nse_cm", "flBuyQty": "10", "tok": "2", "trdSym": "ITC-EQ"}

    assert (decode_position(flat), decode_position(cash)) == (None, None)
