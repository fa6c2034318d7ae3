"""Kotak Neo's order book, trade book and position rows, read into optbus's order types.

Kotak sends numbers as strings or numbers, times in IST in two layouts, and order states as
NEST's lower-case phrases. A row that cannot be read is not a crash: the decoders answer
``Unreadable`` with the reason, and the adapter logs and skips it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from optbus_brokers.orders import (
    BrokerOrder,
    BrokerOrderStatus,
    BrokerPosition,
    BrokerTrade,
    OrderSide,
)

IST: Final = ZoneInfo("Asia/Kolkata")
FO_SEGMENT: Final = "nse_fo"
# NEST's order states (``ordSt``), as the order book and order history spell them.
ORDER_STATES: Final[Mapping[str, BrokerOrderStatus]] = {
    "put order req received": "pending",
    "validation pending": "pending",
    "open pending": "pending",
    "after market order req received": "pending",
    "modify after market order req received": "pending",
    "modify validation pending": "open",
    "modify pending": "open",
    "modified": "open",
    "not modified": "open",
    "cancel pending": "open",
    "not cancelled": "open",
    "trigger pending": "open",
    "open": "open",
    "complete": "complete",
    "traded": "complete",
    "cancelled": "cancelled",
    "cancelled after market order": "cancelled",
    "rejected": "rejected",
}
SIDES: Final[Mapping[str, OrderSide]] = {"B": "buy", "S": "sell"}
# The order book's update time and the trade book's execution time.
_TIME_LAYOUTS: Final = ("%Y/%m/%d %H:%M:%S", "%d-%b-%Y %H:%M:%S")
_NS_PER_SECOND: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A row the adapter skips, and why."""

    reason: str


def decode_order(row: Mapping[str, object]) -> BrokerOrder | Unreadable:
    """One order-book row; the order tag (``GuiOrdId``) is optbus's client order id."""
    try:
        status = ORDER_STATES.get(_text(row, "ordSt").lower())
        if status is None:
            return Unreadable(f"unknown order state {_text(row, 'ordSt')!r}")
        quantity = _count(row, "qty")
        filled = _count(row, "fldQty", default=0)
        average = _amount(row, "avgPrc", default=0.0)
        return BrokerOrder(
            broker_order_id=_text(row, "nOrdNo"),
            client_order_id=_optional_text(row, "GuiOrdId"),
            token=_text(row, "tok"),
            side=_side(row),
            quantity=quantity,
            filled_quantity=min(filled, quantity),
            limit_price=_amount(row, "prc"),
            average_price=average if filled > 0 and average > 0 else None,
            status=status,
            reason=_optional_text(row, "rejRsn") if status in ("rejected", "cancelled") else None,
            ts_update_ns=_time_ns(row, "hsUpTm", "ordDtTm"),
        )
    except _BadField as error:
        return Unreadable(str(error))


def decode_order_feed_message(message: str | bytes) -> BrokerOrder | Unreadable | None:
    """One order-feed frame: an ``order`` message's order; ``None`` for the connection's
    acknowledgement (``cn``) and ``position`` messages, which the order book does not need."""
    try:
        frame = json.loads(message)
    except ValueError:
        return Unreadable("order feed frame not JSON")
    if not isinstance(frame, dict):
        return Unreadable("order feed frame not an object")
    kind = frame.get("type")
    if kind == "order":
        data = frame.get("data")
        return decode_order(data) if isinstance(data, dict) else Unreadable("order without data")
    if kind in ("cn", "position") or frame.get("ak") == "ok":
        return None
    return Unreadable("unknown order feed message")


def decode_trade(row: Mapping[str, object]) -> BrokerTrade | Unreadable:
    """One trade-book row: a fill (``flId``) of an order (``nOrdNo``)."""
    try:
        return BrokerTrade(
            broker_trade_id=_text(row, "flId"),
            broker_order_id=_text(row, "nOrdNo"),
            token=_text(row, "tok"),
            side=_side(row),
            quantity=_count(row, "fldQty"),
            price=_amount(row, "avgPrc"),
            ts_exchange_ns=_time_ns(row, "exTm"),
        )
    except _BadField as error:
        return Unreadable(str(error))


def decode_position(row: Mapping[str, object]) -> BrokerPosition | Unreadable | None:
    """One position row's net F&O position, carried forward and today's together; ``None``
    for a flat position or another segment's."""
    try:
        if _text(row, "exSeg").lower() != FO_SEGMENT:
            return None
        bought = _count(row, "flBuyQty", default=0) + _count(row, "cfBuyQty", default=0)
        sold = _count(row, "flSellQty", default=0) + _count(row, "cfSellQty", default=0)
        net = bought - sold
        if net == 0:
            return None
        if net > 0:
            spent = _amount(row, "buyAmt", default=0.0) + _amount(row, "cfBuyAmt", default=0.0)
            average = spent / bought
        else:
            got = _amount(row, "sellAmt", default=0.0) + _amount(row, "cfSellAmt", default=0.0)
            average = got / sold
        return BrokerPosition(
            token=_text(row, "tok"),
            symbol=_text(row, "trdSym"),
            net_quantity=net,
            average_price=round(average, 4),
        )
    except _BadField as error:
        return Unreadable(str(error))


class _BadField(ValueError):
    """A field missing or not of its kind."""


_MISSING: Final = object()


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise _BadField(f"no {key}")
    return str(value).strip()


def _optional_text(row: Mapping[str, object], key: str) -> str | None:
    value = row.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _amount(row: Mapping[str, object], key: str, default: object = _MISSING) -> float:
    value = row.get(key)
    if value is None or value == "":
        if isinstance(default, float):
            return default
        raise _BadField(f"no {key}")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _BadField(f"{key} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise _BadField(f"{key} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise _BadField(f"{key} out of range")
    return number


def _count(row: Mapping[str, object], key: str, default: object = _MISSING) -> int:
    number = _amount(row, key, float(default) if isinstance(default, int) else default)
    if not number.is_integer() or number > 2**31:
        raise _BadField(f"{key} is not a whole quantity")
    return int(number)


def _side(row: Mapping[str, object]) -> OrderSide:
    side = SIDES.get(_text(row, "trnsTp").upper())
    if side is None:
        raise _BadField("trnsTp is neither B nor S")
    return side


def _time_ns(row: Mapping[str, object], *keys: str) -> int:
    """The first of ``keys`` that holds an IST time in one of Kotak's layouts."""
    for key in keys:
        value = row.get(key)
        if not isinstance(value, str):
            continue
        for layout in _TIME_LAYOUTS:
            try:
                moment = datetime.strptime(value.strip(), layout).replace(tzinfo=IST)
            except ValueError:
                continue
            return int(moment.timestamp()) * _NS_PER_SECOND
    raise _BadField(f"no readable {' or '.join(keys)}")
