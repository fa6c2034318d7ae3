"""SmartStream 2.0, Angel One's market WebSocket: its binary quote frames and its JSON requests.

Pure functions, no I/O. A quote frame is little-endian: mode (1 byte), exchange type (1 byte),
token (25 bytes, NUL-padded ASCII), sequence number, exchange time in epoch milliseconds and
last price (int64 each); QUOTE mode adds the day's traded quantities and OHLC up to byte 123;
SNAP_QUOTE adds the last trade time, open interest, the best five bids and asks (ten 20-byte
packets: buy/sell flag int16, 1 = buy; quantity int64; price int64; orders int16) and the
circuit limits, 379 bytes in all. Prices are in paise (1e-7 rupees on the currency segment).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from typing import Final

from optbus_brokers.feed import DroppedFrame, FeedItem, QuoteTick

LTP_MODE: Final = 1
QUOTE_MODE: Final = 2
SNAP_QUOTE_MODE: Final = 3
DEPTH_MODE: Final = 4

SUBSCRIBE_ACTION: Final = 1
UNSUBSCRIBE_ACTION: Final = 0

HEARTBEAT_REQUEST: Final = "ping"
HEARTBEAT_REPLY: Final = "pong"

MAX_TOKENS_PER_SESSION: Final = 1000
"""SmartStream's documented limit of subscribed tokens per WebSocket session."""

FRAME_SIZES: Final[Mapping[int, int]] = {LTP_MODE: 51, QUOTE_MODE: 123, SNAP_QUOTE_MODE: 379}

EXCHANGE_TYPES: Final[Mapping[str, int]] = {
    "NSE": 1,
    "NFO": 2,
    "BSE": 3,
    "BFO": 4,
    "MCX": 5,
    "NCDEX": 7,
    "CDS": 13,
}
"""SmartStream's exchange type for each ``exch_seg`` of the scrip master."""

_CURRENCY_EXCHANGE_TYPE: Final = 13
_PAISE_PER_RUPEE: Final = 100.0
_CURRENCY_UNITS_PER_RUPEE: Final = 10_000_000.0
_NS_PER_MS: Final = 1_000_000

_TOKEN = slice(2, 27)
_HEADER = struct.Struct("<qqq")  # sequence number, exchange time (ms), last price at byte 27
_VOLUME = struct.Struct("<q")  # volume traded today at byte 67
_OPEN_INTEREST = struct.Struct("<q")  # at byte 131
_CIRCUITS = struct.Struct("<qq")  # upper, lower at byte 347
_DEPTH_LEVEL = struct.Struct("<hqqh")  # flag, quantity, price, orders
_DEPTH_START: Final = 147
_DEPTH_LEVELS: Final = 10
_BUY_FLAG: Final = 1


def decode_frame(frame: bytes) -> FeedItem:
    """One binary SmartStream frame as a ``QuoteTick``, or a ``DroppedFrame`` saying why not.

    Never raises: whatever the bytes, the answer is data.
    """
    if len(frame) < 2:
        return DroppedFrame(reason=f"frame of {len(frame)} bytes has no header")
    mode, exchange_type = frame[0], frame[1]
    expected = FRAME_SIZES.get(mode)
    if expected is None:
        return DroppedFrame(reason=f"unknown subscription mode {mode}")
    if len(frame) < expected:
        return DroppedFrame(reason=f"truncated mode-{mode} frame: {len(frame)} of {expected} bytes")
    token = _token(frame[_TOKEN])
    if token is None:
        return DroppedFrame(reason="token is not NUL-padded ASCII digits")
    _sequence, exchange_ms, last_raw = _HEADER.unpack_from(frame, 27)
    if exchange_ms <= 0 or exchange_ms > 2**63 // _NS_PER_MS:
        return DroppedFrame(reason=f"exchange time {exchange_ms} ms is out of range")
    currency = exchange_type == _CURRENCY_EXCHANGE_TYPE
    scale = _CURRENCY_UNITS_PER_RUPEE if currency else _PAISE_PER_RUPEE
    volume = _VOLUME.unpack_from(frame, 67)[0] if mode != LTP_MODE else 0
    if mode == SNAP_QUOTE_MODE:
        (bid, bid_size), (ask, ask_size) = _best_bid_and_ask(frame, scale)
        open_interest = _OPEN_INTEREST.unpack_from(frame, 131)[0]
        upper_raw, lower_raw = _CIRCUITS.unpack_from(frame, 347)
    else:  # LTP and QUOTE modes carry no book, open interest or circuits
        (bid, bid_size), (ask, ask_size) = (None, 0), (None, 0)
        open_interest = upper_raw = lower_raw = 0
    return QuoteTick(
        token=token,
        ts_exchange_ns=exchange_ms * _NS_PER_MS,
        last=last_raw / scale,
        bid=bid,
        ask=ask,
        bid_size=bid_size,
        ask_size=ask_size,
        volume=volume,
        open_interest=open_interest,
        upper_circuit=upper_raw / scale if upper_raw > 0 else None,
        lower_circuit=lower_raw / scale if lower_raw > 0 else None,
    )


def _token(raw: bytes) -> str | None:
    text = raw.split(b"\x00", 1)[0]
    if not text or not text.isascii() or not text.isdigit():
        return None
    return text.decode("ascii")


def _best_bid_and_ask(
    frame: bytes, scale: float
) -> tuple[tuple[float | None, int], tuple[float | None, int]]:
    """The best buy and sell of the five levels each side (a side with none: ``(None, 0)``).

    Chosen by the buy/sell flag and by price, not by position, and only among levels that
    carry both a price and a quantity: an empty level is zeros.
    """
    bids: list[tuple[int, int]] = []
    asks: list[tuple[int, int]] = []
    for level in range(_DEPTH_LEVELS):
        flag, quantity, price, _orders = _DEPTH_LEVEL.unpack_from(
            frame, _DEPTH_START + level * _DEPTH_LEVEL.size
        )
        if quantity > 0 and price > 0:
            (bids if flag == _BUY_FLAG else asks).append((price, quantity))
    best_bid = max(bids, default=None)
    best_ask = min(asks, default=None)
    return (
        (best_bid[0] / scale, best_bid[1]) if best_bid else (None, 0),
        (best_ask[0] / scale, best_ask[1]) if best_ask else (None, 0),
    )


def decode_text(message: str) -> DroppedFrame | None:
    """A text frame: ``None`` for the heartbeat's 'pong', else why it carries no quote.

    SmartStream sends its errors as JSON text (``errorCode``, ``errorMessage``), e.g. E1002
    when a subscription would pass the token limit.
    """
    if message == HEARTBEAT_REPLY:
        return None
    try:
        parsed = json.loads(message)
    except (ValueError, RecursionError):
        return DroppedFrame(reason=f"unexpected text frame of {len(message)} characters")
    if isinstance(parsed, dict) and "errorCode" in parsed:
        return DroppedFrame(
            reason=f"SmartStream error {parsed.get('errorCode')}: {parsed.get('errorMessage')}"
        )
    return DroppedFrame(reason="unexpected JSON text frame")


def subscription_request(
    action: int, tokens_by_exchange: Mapping[int, Sequence[str]], correlation_id: str
) -> str:
    """The JSON of a SNAP_QUOTE subscribe (``action`` 1) or unsubscribe (0) request."""
    return json.dumps(
        {
            "correlationID": correlation_id,
            "action": action,
            "params": {
                "mode": SNAP_QUOTE_MODE,
                "tokenList": [
                    {"exchangeType": exchange_type, "tokens": list(tokens)}
                    for exchange_type, tokens in sorted(tokens_by_exchange.items())
                ],
            },
        }
    )
