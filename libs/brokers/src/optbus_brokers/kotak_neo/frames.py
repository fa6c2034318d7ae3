"""Kotak Neo's SFeed ``native_batch`` data plane: binary frames into quotes, pure.

One WebSocket binary frame carries packets laid end to end; each packet starts with its own
length (``uint16``) in a 9-byte little-endian header: length, message code, exchange id, level,
auction flag, sequence number, bitmask length. Prices are integers that the per-exchange
``divider`` from the feed's authentication response turns into rupees; times are Unix seconds.

Layouts follow the official SDK's decoder (``neo_api_client.websocket.feed.protocol`` in
``kotakneoapi`` 3.0.9). Unlike that decoder, nothing here is silently skipped: a packet that is
cut short, or of a kind we did not subscribe to, becomes a ``DroppedFrame`` with the reason.
Exchange status packets (market open or close, closing-auction updates) carry no quote and are
not errors, so they yield nothing. Reasons are a few fixed words: the service counts dropped
frames by reason, so a reason must never carry a token, a length or a time.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Final

from optbus_brokers.feed import DroppedFrame, FeedItem, QuoteTick

HEADER: Final = struct.Struct("<HHbBBBB")
# Market picture (levels 2, 4, 8, 16), 135 bytes after the header: token, total buy and sell
# quantity, volume, last trade time, last update time, open, close, high, low, last price,
# last quantity, average price, indicative close, bid and ask row counts, trading status, net
# change %, open interest, traded value, net change, upper and lower circuit, 52-week high and
# low, market lot, precision, multiplier. Depth rows (quantity, price, orders) follow.
MARKET_PICTURE: Final = struct.Struct("<IqqqqqIIIIIqIIIIhiIdiIIIIIBI")
DEPTH_ROW: Final = struct.Struct("<qii")
# Index: token, open, close, high, low, value, last trade time, 52-week high and low, net
# change %, market cap, precision, multiplier, name (21 bytes, NUL padded).
INDEX: Final = struct.Struct("<IiiiiiQiiidBi21s")

INDEX_MESSAGE: Final = 7207
MARKET_PICTURE_MESSAGE: Final = 7208
# Exchange status and closing-auction packets: no quote in them.
STATUS_MESSAGES: Final = frozenset({104, 105, 6511, 6521})
TOUCH_LINE_LEVEL: Final = 4
DEPTH_LEVELS: Final = frozenset({2, TOUCH_LINE_LEVEL, 8, 16})
MINI_TOUCH_LINE_LEVEL: Final = 1
DEFAULT_DIVIDER: Final = 100
_NS_PER_SECOND: Final = 1_000_000_000


def decode_frame(
    frame: bytes, dividers: Mapping[int, int], index_tokens: Mapping[str, str]
) -> list[FeedItem]:
    """Every packet of one binary frame, as a quote or as a dropped frame with its reason.

    ``dividers`` maps exchange ids to the price divider the feed announced at login.
    ``index_tokens`` maps an index's name as the feed spells it, lower-cased, to the token it
    was subscribed by (SFeed subscribes indices by name, then streams them under a number).
    Never raises: a length that runs past the frame ends the frame, as no later packet can be
    found without it.
    """
    items: list[FeedItem] = []
    offset = 0
    while offset < len(frame):
        remaining = len(frame) - offset
        if remaining < HEADER.size:
            items.append(DroppedFrame("truncated header"))
            break
        length = HEADER.unpack_from(frame, offset)[0]
        if length < HEADER.size:
            items.append(DroppedFrame("length shorter than header"))
            break
        if length > remaining:
            items.append(DroppedFrame("truncated packet"))
            break
        item = decode_packet(frame[offset : offset + length], dividers, index_tokens)
        if item is not None:
            items.append(item)
        offset += length
    return items


def decode_packet(
    packet: bytes, dividers: Mapping[int, int], index_tokens: Mapping[str, str]
) -> FeedItem | None:
    """One whole packet (header included); None for a status packet, which has no quote."""
    _, code, exchange_id, level, _auction, _seq, _bitmask = HEADER.unpack_from(packet)
    divider = dividers.get(exchange_id) or DEFAULT_DIVIDER
    if code in STATUS_MESSAGES:
        return None
    if code == INDEX_MESSAGE:
        return _index_tick(packet, divider, index_tokens)
    if level in DEPTH_LEVELS:
        return _market_picture_tick(packet, divider, level)
    if level == MINI_TOUCH_LINE_LEVEL:
        return DroppedFrame("mini touch line, not subscribed")
    return DroppedFrame("unknown packet kind")


def _index_tick(packet: bytes, divider: int, index_tokens: Mapping[str, str]) -> FeedItem:
    if len(packet) < HEADER.size + INDEX.size:
        return DroppedFrame("truncated index packet")
    fields = INDEX.unpack_from(packet, HEADER.size)
    token, value, trade_time, raw_name = fields[0], fields[5], fields[6], fields[13]
    name = raw_name.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
    if trade_time == 0:
        return DroppedFrame("no exchange time")
    return QuoteTick(
        token=index_tokens.get(name.lower(), str(token)),
        ts_exchange_ns=trade_time * _NS_PER_SECOND,
        last=value / divider,
        bid=None,
        ask=None,
        bid_size=0,
        ask_size=0,
        volume=0,
        open_interest=0,
    )


def _market_picture_tick(packet: bytes, divider: int, level: int) -> FeedItem:
    fixed_end = HEADER.size + MARKET_PICTURE.size
    if len(packet) < fixed_end:
        return DroppedFrame("truncated market picture")
    fields = MARKET_PICTURE.unpack_from(packet, HEADER.size)
    token, volume, trade_time, update_time = fields[0], fields[3], fields[4], fields[5]
    last, bid_rows, ask_rows, open_interest = fields[10], fields[14], fields[15], fields[18]
    upper, lower = fields[21], fields[22]
    # A touch line always carries one bid row and one ask row, whatever the counts say.
    if level == TOUCH_LINE_LEVEL:
        bid_rows, ask_rows = 1, 1
    if bid_rows < 1 or ask_rows < 1:
        return DroppedFrame("no bid row or no ask row")
    ask_at = fixed_end + bid_rows * DEPTH_ROW.size
    if len(packet) < ask_at + DEPTH_ROW.size:
        return DroppedFrame("truncated depth rows")
    # The feed sends a negative update time for a contract never updated; then only the
    # last trade dates the quote.
    seconds = update_time if update_time > 0 else trade_time
    if seconds <= 0:
        return DroppedFrame("no exchange time")
    bid_size, bid_price, _ = DEPTH_ROW.unpack_from(packet, fixed_end)
    ask_size, ask_price, _ = DEPTH_ROW.unpack_from(packet, ask_at)
    bid, bid_size = _side(bid_price, bid_size, divider)
    ask, ask_size = _side(ask_price, ask_size, divider)
    return QuoteTick(
        token=str(token),
        ts_exchange_ns=seconds * _NS_PER_SECOND,
        last=last / divider,
        bid=bid,
        ask=ask,
        bid_size=bid_size,
        ask_size=ask_size,
        volume=volume,
        open_interest=open_interest,
        upper_circuit=upper / divider if upper else None,
        lower_circuit=lower / divider if lower else None,
    )


def _side(price: int, size: int, divider: int) -> tuple[float | None, int]:
    """A best bid or ask row: no price (zero) means no quote on that side."""
    if price <= 0:
        return None, 0
    return price / divider, size
