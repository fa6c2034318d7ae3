"""Breeze's live-stream quote frames as ``QuoteTick``s.

Breeze's stream is Socket.IO: a client ``join``s rooms named ``4.1!<token>`` (exchange 4, NSE
and its F&O segment; quote type 1, the exchange quote with the best bid and offer) and the server
emits a ``stock`` event per quote whose one argument is a list. breeze-connect's ``parse_data``
reads it by position: 21 fields for a cash or index quote, 23 for a futures or options quote
(which adds open interest and its change after the average price). Prices are in rupees, the
last-trade time in seconds since the epoch. An index quote carries ``null`` for the book, the
volume and the circuit limits (breeze-connect's README shows one), as may any quote for a field
the exchange has not sent: ``null`` reads as absent. Whatever does not fit becomes a
``DroppedFrame`` whose reason is a few fixed words, never a value from the frame: the service
counts drops by reason in a metric label, which must not grow with the data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from optbus_brokers.feed import DroppedFrame, FeedItem, QuoteTick

NSE_EXCHANGE = "4"
QUOTE_TYPE = "1"
_ROOM = re.compile(r"(\d+)\.(\d+)!(.+)", re.DOTALL)
_NS_PER_SECOND = 1_000_000_000
# Exchange times outside 2000-01-01 .. 2100-01-01 are not quotes of a live market.
_EARLIEST_S = 946_684_800
_LATEST_S = 4_102_444_800


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where a quote's fields sit in a frame of one length (breeze-connect's ``parse_data``)."""

    open_interest: int | None
    volume: int
    lower_circuit: int
    upper_circuit: int
    last_trade_time: int


_LAYOUTS = {
    21: _Layout(None, volume=12, lower_circuit=17, upper_circuit=18, last_trade_time=19),
    23: _Layout(12, volume=14, lower_circuit=19, upper_circuit=20, last_trade_time=21),
}
_LAST, _BID, _BID_SIZE, _ASK, _ASK_SIZE = 2, 6, 7, 8, 9


def quote_room(token: str) -> str:
    """The room a client joins for an instrument's exchange quotes."""
    return f"{NSE_EXCHANGE}.{QUOTE_TYPE}!{token}"


def decode_quote_frame(frame: object) -> FeedItem:
    """A ``stock`` event's argument as a tick, or the reason it is not one; never raises."""
    if not isinstance(frame, list):
        return DroppedFrame("frame not a list")
    layout = _LAYOUTS.get(len(frame))
    if layout is None:
        return DroppedFrame("frame not 21 or 23 fields")
    room = _ROOM.fullmatch(frame[0]) if isinstance(frame[0], str) else None
    if room is None:
        return DroppedFrame("frame without exchange!token symbol")
    exchange, quote_type, token = room.groups()
    if exchange != NSE_EXCHANGE or quote_type != QUOTE_TYPE:
        return DroppedFrame("exchange or quote type not followed")
    try:
        return _tick(token, frame, layout)
    except ValueError as error:
        return DroppedFrame(str(error))


def _tick(token: str, frame: list[object], layout: _Layout) -> QuoteTick:
    seconds = _number(frame, layout.last_trade_time, "last trade time")
    if not _EARLIEST_S <= seconds < _LATEST_S:
        raise ValueError("last trade time outside 2000-2100")
    bid, bid_size = _side(frame, _BID, _BID_SIZE, "bid")
    ask, ask_size = _side(frame, _ASK, _ASK_SIZE, "offer")
    open_interest = 0 if layout.open_interest is None else _count(frame, layout.open_interest, "OI")
    last = _optional_number(frame, _LAST, "last price")
    if last is None:
        raise ValueError("last price missing")
    return QuoteTick(
        token=token,
        ts_exchange_ns=round(seconds * _NS_PER_SECOND),
        last=last,
        bid=bid,
        ask=ask,
        bid_size=bid_size,
        ask_size=ask_size,
        volume=_count(frame, layout.volume, "volume"),
        open_interest=open_interest,
        upper_circuit=_optional_price(frame, layout.upper_circuit, "upper circuit"),
        lower_circuit=_optional_price(frame, layout.lower_circuit, "lower circuit"),
    )


def _number(frame: list[object], index: int, name: str) -> float:
    return read_number(frame[index], name)


def read_number(value: object, name: str) -> float:
    """A finite non-negative number, or text of one, as Breeze sends prices and sizes."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} not a number") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} negative or not finite")
    return number


def _optional_number(frame: list[object], index: int, name: str) -> float | None:
    return None if frame[index] is None else _number(frame, index, name)


def _count(frame: list[object], index: int, name: str) -> int:
    """A quantity; ``null`` is none."""
    number = _optional_number(frame, index, name)
    if number is None:
        return 0
    if not number.is_integer():
        raise ValueError(f"{name} not a whole number")
    return int(number)


def _optional_price(frame: list[object], index: int, name: str) -> float | None:
    price = _optional_number(frame, index, name)
    return price if price else None


def _side(frame: list[object], price_at: int, size_at: int, name: str) -> tuple[float | None, int]:
    """A side of the book; Breeze sends price 0 (or ``null``) for a side with no order."""
    price = _optional_price(frame, price_at, f"{name} price")
    size = _count(frame, size_at, f"{name} size")
    return (price, size) if price is not None else (None, 0)
