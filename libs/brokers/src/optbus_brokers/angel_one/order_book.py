"""SmartAPI's order, trade, position and RMS replies, decoded into optbus's order types.

Pure functions: bytes in, ``BrokerOrder``/``BrokerTrade``/``BrokerPosition`` out, nothing read
from the wall clock. SmartAPI spells numbers sometimes as strings (``"75"``), sometimes as
numbers, and order ids either way, so the decoders accept both. Times are Indian Standard
Time: ``updatetime`` as ``07-Dec-2026 10:00:01``, a trade's ``filltime`` as the time of day
alone (its day is the trading day the caller names).

A row that cannot be read (a missing field, a side that is neither BUY nor SELL, a time that
does not parse) is skipped and reported back with its reason, never an exception: one odd row
must not hide the rest of the book.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from optbus_brokers.orders import (
    BrokerOrder,
    BrokerOrderStatus,
    BrokerPosition,
    BrokerTrade,
    OrderSide,
)

ANGEL_TIMEZONE = ZoneInfo("Asia/Kolkata")
ORDER_TAG_LENGTH = 19
"""SmartAPI refuses an ``ordertag`` of 20 characters or more (error AB4008)."""

_NS_PER_SECOND = 1_000_000_000

_STATUSES: dict[str, BrokerOrderStatus] = {
    "put order req received": "pending",
    "validation pending": "pending",
    "open pending": "pending",
    "after market order req received": "pending",
    "trigger pending": "pending",
    "open": "open",
    "modify validation pending": "open",
    "modify pending": "open",
    "modified": "open",
    "not modified": "open",
    "cancel pending": "open",
    "not cancelled": "open",
    "complete": "complete",
    "cancelled": "cancelled",
    "rejected": "rejected",
}
_SIDES: dict[str, OrderSide] = {"BUY": "buy", "SELL": "sell"}

T = TypeVar("T")
R = TypeVar("R")


class Reply(msgspec.Struct, Generic[T], frozen=True):
    """SmartAPI's envelope around every reply: ``status: false`` carries an error code."""

    status: bool
    message: str = ""
    errorcode: str = ""
    data: T | None = None


class OrderRow(msgspec.Struct, frozen=True):
    """One order as the order book, the order details call and the order stream show it."""

    orderid: str | int
    symboltoken: str
    transactiontype: str
    quantity: int
    price: float
    tradingsymbol: str = ""
    exchange: str = ""
    orderstatus: str = ""
    status: str = ""
    ordertag: str = ""
    filledshares: int = 0
    averageprice: float = 0.0
    text: str = ""
    updatetime: str = ""
    uniqueorderid: str = ""


class TradeRow(msgspec.Struct, frozen=True):
    orderid: str | int
    fillid: str | int
    transactiontype: str
    fillsize: int
    fillprice: float
    filltime: str


class PositionRow(msgspec.Struct, frozen=True):
    symboltoken: str
    tradingsymbol: str
    netqty: int
    avgnetprice: float = 0.0


class RmsLimits(msgspec.Struct, frozen=True):
    net: float
    availablecash: float = 0.0


class PlacedOrder(msgspec.Struct, frozen=True):
    orderid: str | int
    uniqueorderid: str = ""


@dataclass(frozen=True, slots=True)
class Decoded(Generic[T]):
    """What a reply held: the rows read, and why any others were skipped."""

    rows: list[T]
    skipped: list[str]


class RefusedReply(Exception):
    """SmartAPI answered ``status: false``: the error code and message, as it sent them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code or 'no code'} {message}".strip())
        self.code = code
        self.message = message


class GarbledReply(Exception):
    """The bytes were not a SmartAPI reply at all."""


def order_tag(client_order_id: str) -> str:
    """The ``ordertag`` that carries ``client_order_id`` to Angel One: a client order id (a
    36-character UUID) does not fit the tag's 19 characters, so a digest of it does."""
    return hashlib.sha256(client_order_id.encode()).hexdigest()[:ORDER_TAG_LENGTH]


def normalise_status(angel_status: str) -> BrokerOrderStatus | None:
    """optbus's state of an order in Angel One's spelling; ``None`` for a state unknown here."""
    return _STATUSES.get(angel_status.strip().lower())


def decode_reply(payload: bytes, data_type: type[T]) -> T | None:
    """The ``data`` of a successful reply; raises ``RefusedReply`` or ``GarbledReply``."""
    try:
        reply = msgspec.json.decode(payload, type=Reply[data_type], strict=False)  # type: ignore[valid-type]
    except msgspec.DecodeError as error:
        raise GarbledReply(str(error)) from None
    if not reply.status:
        raise RefusedReply(reply.errorcode, reply.message)
    return reply.data


def decode_rows(payload: bytes) -> list[msgspec.Raw]:
    """The ``data`` list of a successful book reply, rows still undecoded (``null`` is empty)."""
    return decode_reply(payload, list[msgspec.Raw]) or []


def ist_timestamp_ns(text: str, time_format: str) -> int:
    """An IST time as Angel One writes it, in ns since the epoch; raises ``ValueError``."""
    moment = datetime.strptime(text, time_format).replace(tzinfo=ANGEL_TIMEZONE)
    return int(moment.timestamp()) * _NS_PER_SECOND


def broker_order(row: OrderRow, client_order_ids: Callable[[str], str | None]) -> BrokerOrder:
    """``row`` as a ``BrokerOrder``; ``client_order_ids`` maps an order tag back to the client
    order id it carries. Raises ``ValueError`` for a row that cannot be read."""
    status_text = row.orderstatus or row.status
    status = normalise_status(status_text)
    if status is None:
        raise ValueError(f"unknown order status {status_text!r}")
    return BrokerOrder(
        broker_order_id=str(row.orderid),
        client_order_id=client_order_ids(row.ordertag) if row.ordertag else None,
        token=row.symboltoken,
        side=_side(row.transactiontype),
        quantity=row.quantity,
        filled_quantity=row.filledshares,
        limit_price=row.price,
        average_price=row.averageprice if row.filledshares > 0 else None,
        status=status,
        reason=row.text or None,
        ts_update_ns=ist_timestamp_ns(row.updatetime, "%d-%b-%Y %H:%M:%S"),
    )


def broker_trade(row: TradeRow, token: str, trading_day: date) -> BrokerTrade:
    """``row`` (of order ``token``'s instrument) as a ``BrokerTrade`` on ``trading_day``."""
    fill_time = ist_timestamp_ns(f"{trading_day:%Y-%m-%d} {row.filltime}", "%Y-%m-%d %H:%M:%S")
    return BrokerTrade(
        broker_trade_id=str(row.fillid),
        broker_order_id=str(row.orderid),
        token=token,
        side=_side(row.transactiontype),
        quantity=row.fillsize,
        price=row.fillprice,
        ts_exchange_ns=fill_time,
    )


def broker_position(row: PositionRow) -> BrokerPosition:
    return BrokerPosition(
        token=row.symboltoken,
        symbol=row.tradingsymbol,
        net_quantity=row.netqty,
        average_price=row.avgnetprice,
    )


def decode_each(
    rows: list[msgspec.Raw], row_type: type[R], convert: Callable[[R], T]
) -> Decoded[T]:
    """Every row of ``rows`` decoded as ``row_type`` and converted; unreadable ones skipped."""
    decoded: list[T] = []
    skipped: list[str] = []
    for raw in rows:
        try:
            decoded.append(convert(msgspec.json.decode(raw, type=row_type, strict=False)))
        except (msgspec.DecodeError, ValueError, KeyError) as error:
            skipped.append(f"{row_type.__name__}: {error}")
    return Decoded(decoded, skipped)


def _side(transaction_type: str) -> OrderSide:
    side = _SIDES.get(transaction_type.upper())
    if side is None:
        raise ValueError(f"unknown transaction type {transaction_type!r}")
    return side
