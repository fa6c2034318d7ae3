"""Breeze's order API in optbus's terms: the placement body out, and its answers' rows back in.

Breeze names a contract by stock code, expiry, right and strike (never by the master's token),
quantities are units, prices rupees, times India's local time. Every decoder either returns
optbus's value or raises ``UnreadableAnswer`` naming the field: a row that cannot be read is
never guessed at (the adapter reports the whole answer as unusable).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from optbus_brokers.feed import Instrument
from optbus_brokers.icici_breeze.frames import read_number
from optbus_brokers.icici_breeze.security_master import BREEZE_UNDERLYINGS
from optbus_brokers.orders import (
    BrokerOrder,
    BrokerOrderStatus,
    BrokerPosition,
    BrokerTrade,
    OrderRequest,
    OrderSide,
)

EXCHANGE = "NFO"
INDIA = ZoneInfo("Asia/Kolkata")
ContractKey = tuple[str, date, str, float]
"""Breeze's name of a contract: stock code, expiry, right (``call``, ``put``, ``others`` for
a future) and strike (0 for a future)."""

_BREEZE_CODES = {underlying: code for code, underlying in BREEZE_UNDERLYINGS.items()}
_RIGHTS = {"call": "call", "put": "put", "future": "others"}
# Every order status breeze-connect 1.0.69 names (its TUX_TO_USER_MAP); "Freezed" is an order
# held for the exchange's freeze approval, not yet working.
_STATUSES: dict[str, BrokerOrderStatus] = {
    "requested": "pending",
    "queued": "pending",
    "freezed": "pending",
    "ordered": "open",
    "partially executed": "open",
    "executed": "complete",
    "cancelled": "cancelled",
    "expired": "cancelled",
    "partially executed and cancelled": "cancelled",
    "partially executed and expired": "cancelled",
    "rejected": "rejected",
}
_SIDES: dict[str, OrderSide] = {"buy": "buy", "b": "buy", "sell": "sell", "s": "sell"}
_DATE_FORMATS = ("%d-%b-%Y", "%Y-%m-%dT%H:%M:%S.%fZ")
_TIME_FORMATS = ("%d-%b-%Y %H:%M:%S", "%d-%b-%Y %H:%M")
_NS_PER_SECOND = 1_000_000_000


class UnreadableAnswer(ValueError):
    """A Breeze answer optbus cannot read; the message names the field, never its value."""


def contract_key(instrument: Instrument) -> ContractKey:
    """How Breeze names ``instrument`` in its order API."""
    code = _BREEZE_CODES.get(instrument.underlying)
    if code is None or instrument.expiry is None or instrument.kind not in _RIGHTS:
        raise ValueError(f"{instrument.symbol} is not an index future or option on Breeze")
    return (code, instrument.expiry, _RIGHTS[instrument.kind], instrument.strike or 0.0)


def breeze_day(day: date) -> str:
    """A date as Breeze's order API takes it: ISO 8601 at 06:00 UTC, as its SDK's examples."""
    return f"{day:%Y-%m-%d}T06:00:00.000Z"


def placement(request: OrderRequest) -> dict[str, str]:
    """The body of ``POST order``: a day limit order, the client order id as the remark."""
    code, expiry, right, strike = contract_key(request.instrument)
    return {
        "stock_code": code,
        "exchange_code": EXCHANGE,
        "product": "futures" if right == "others" else "options",
        "action": request.side,
        "order_type": "limit",
        "quantity": str(request.quantity),
        "price": _rupees(request.limit_price),
        "validity": "day",
        "user_remark": request.client_order_id,
        "expiry_date": breeze_day(expiry),
        "right": right,
        "strike_price": f"{strike:g}",
    }


def modification(broker_order_id: str, quantity: int, limit_price: float) -> dict[str, str]:
    """The body of ``PUT order``."""
    return {
        "order_id": broker_order_id,
        "exchange_code": EXCHANGE,
        "order_type": "limit",
        "quantity": str(quantity),
        "price": _rupees(limit_price),
        "validity": "day",
    }


def decode_order(row: object, tokens: Mapping[ContractKey, str]) -> BrokerOrder | None:
    """One row of the order book (``GET order``); ``None`` for another segment's order."""
    fields = _mapping(row, "order row")
    if fields.get("exchange_code") != EXCHANGE:
        return None
    quantity = _whole(fields, "quantity")
    pending = _whole(fields, "pending_quantity")
    cancelled = _whole(fields, "cancelled_quantity")
    status = _STATUSES.get(_text(fields, "status").lower())
    if status is None:
        raise UnreadableAnswer("order status unknown")
    average = _number(fields, "average_price")
    remark = fields.get("user_remark")
    return BrokerOrder(
        broker_order_id=_text(fields, "order_id"),
        client_order_id=remark if isinstance(remark, str) and remark else None,
        token=_token(fields, tokens),
        side=_side(fields),
        quantity=quantity,
        filled_quantity=max(quantity - pending - cancelled, 0),
        limit_price=_number(fields, "price"),
        average_price=average or None,
        status=status,
        reason=None,
        ts_update_ns=_time_ns(fields, "order_datetime"),
    )


def decode_execution(row: object, order: BrokerOrder) -> BrokerTrade:
    """One execution of ``order`` from its trade detail (``GET trades`` with an order id)."""
    fields = _mapping(row, "trade row")
    return BrokerTrade(
        broker_trade_id=_text(fields, "exchange_trade_id"),
        broker_order_id=order.broker_order_id,
        token=order.token,
        side=_side(fields),
        quantity=_whole(fields, "executed_quantity"),
        price=_number(fields, "execution_price"),
        ts_exchange_ns=_time_ns(fields, "execution_time"),
    )


def decode_position(row: object, tokens: Mapping[ContractKey, str]) -> BrokerPosition | None:
    """One row of the portfolio positions; ``None`` for another segment or a flat position."""
    fields = _mapping(row, "position row")
    if fields.get("exchange_code") != EXCHANGE:
        return None
    quantity = _whole(fields, "quantity")
    if quantity == 0:
        return None
    signed = quantity if _side(fields) == "buy" else -quantity
    code, expiry, right, strike = _key(fields)
    return BrokerPosition(
        token=_token(fields, tokens),
        symbol=f"{code} {expiry:%d-%b-%Y} {strike:g} {right}",
        net_quantity=signed,
        average_price=_number(fields, "average_price"),
    )


def decode_fno_margin(success: object) -> float:
    """What the F&O segment has free: allocated to it less what open trades block."""
    fields = _mapping(success, "funds")
    return _number(fields, "allocated_fno") - _number(fields, "block_by_trade_fno")


def _mapping(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise UnreadableAnswer(f"{what} not an object")
    return value


def _text(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name)
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise UnreadableAnswer(f"{name} missing")


def _number(fields: Mapping[str, object], name: str) -> float:
    value = fields.get(name)
    if value is None or value == "":
        return 0.0
    try:
        return read_number(value, name)
    except ValueError as error:
        raise UnreadableAnswer(str(error)) from None


def _whole(fields: Mapping[str, object], name: str) -> int:
    number = _number(fields, name)
    if not number.is_integer() or number >= 2**53:
        raise UnreadableAnswer(f"{name} not a whole number")
    return int(number)


def _side(fields: Mapping[str, object]) -> OrderSide:
    side = _SIDES.get(_text(fields, "action").lower())
    if side is None:
        raise UnreadableAnswer("action neither buy nor sell")
    return side


def _key(fields: Mapping[str, object]) -> ContractKey:
    right = _text(fields, "right").lower()
    if right not in ("call", "put", "others"):
        raise UnreadableAnswer("right unknown")
    expiry = _parse(_text(fields, "expiry_date"), _DATE_FORMATS, "expiry_date").date()
    strike = _number(fields, "strike_price") if right != "others" else 0.0
    return (_text(fields, "stock_code"), expiry, right, strike)


def _token(fields: Mapping[str, object], tokens: Mapping[ContractKey, str]) -> str:
    token = tokens.get(_key(fields))
    if token is None:
        raise UnreadableAnswer("contract not in the security master")
    return token


def _time_ns(fields: Mapping[str, object], name: str) -> int:
    local = _parse(_text(fields, name), _TIME_FORMATS, name).replace(tzinfo=INDIA)
    return int(local.timestamp()) * _NS_PER_SECOND


def _parse(text: str, formats: tuple[str, ...], name: str) -> datetime:
    for form in formats:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    raise UnreadableAnswer(f"{name} not a date")


def _rupees(price: float) -> str:
    return f"{price:.2f}"
