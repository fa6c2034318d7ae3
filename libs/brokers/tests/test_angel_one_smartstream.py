"""SmartStream 2.0 frames: any bytes decode to a quote or a dropped frame, never an exception."""

from __future__ import annotations

import json
import struct

from hypothesis import given
from hypothesis import strategies as st

from optbus_brokers.angel_one.smartstream import (
    FRAME_SIZES,
    SNAP_QUOTE_MODE,
    decode_frame,
    decode_text,
    subscription_request,
)
from optbus_brokers.feed import DroppedFrame, QuoteTick

_LEVEL = struct.Struct("<hqqh")


def _snap_quote(levels: list[tuple[int, int, int]], exchange_type: int = 2) -> bytes:
    """A SNAP_QUOTE frame for token 43210 at 10:00:00.123, last ₹101.25, volume 7,800, OI 65,000,
    circuits ₹500 and ₹0.05, with ``levels`` as (flag, quantity, paise) of the best five."""
    head = struct.pack(
        "<BB25sqqq", SNAP_QUOTE_MODE, exchange_type, b"43210", 9, 1_796_617_800_123, 10_125
    )
    body = bytearray(FRAME_SIZES[SNAP_QUOTE_MODE] - len(head))
    struct.pack_into("<q", body, 67 - len(head), 7_800)
    struct.pack_into("<q", body, 131 - len(head), 65_000)
    for n, (flag, quantity, paise) in enumerate(levels):
        _LEVEL.pack_into(body, 147 - len(head) + n * _LEVEL.size, flag, quantity, paise, 3)
    struct.pack_into("<qq", body, 347 - len(head), 50_000, 5)
    return head + bytes(body)


def test_a_snap_quote_frame_decodes_to_rupees_units_and_nanoseconds() -> None:
    frame = _snap_quote([(1, 650, 10_100), (1, 130, 10_095), (0, 195, 10_150), (0, 65, 10_155)])

    assert decode_frame(frame) == QuoteTick(
        token="43210",
        ts_exchange_ns=1_796_617_800_123_000_000,
        last=101.25,
        bid=101.0,
        ask=101.5,
        bid_size=650,
        ask_size=195,
        volume=7_800,
        open_interest=65_000,
        upper_circuit=500.0,
        lower_circuit=0.05,
    )


def test_the_best_levels_are_chosen_by_flag_and_price_not_by_position() -> None:
    frame = _snap_quote([(0, 65, 10_155), (1, 130, 10_095), (0, 195, 10_150), (1, 650, 10_100)])

    tick = decode_frame(frame)

    assert isinstance(tick, QuoteTick)
    assert (tick.bid, tick.bid_size, tick.ask, tick.ask_size) == (101.0, 650, 101.5, 195)


def test_a_side_without_levels_has_no_price_and_no_size() -> None:
    tick = decode_frame(_snap_quote([(1, 650, 10_100), (0, 0, 0)]))

    assert isinstance(tick, QuoteTick)
    assert (tick.ask, tick.ask_size) == (None, 0)


def test_currency_prices_are_in_ten_millionths_of_a_rupee() -> None:
    tick = decode_frame(_snap_quote([], exchange_type=13))

    assert isinstance(tick, QuoteTick)
    assert tick.last == 10_125 / 10_000_000


def test_an_ltp_frame_carries_the_last_price_only() -> None:
    frame = _snap_quote([])[: FRAME_SIZES[1]]
    frame = bytes([1]) + frame[1:]

    tick = decode_frame(frame)

    assert isinstance(tick, QuoteTick)
    assert (tick.last, tick.bid, tick.volume, tick.open_interest) == (101.25, None, 0, 0)


@given(st.binary(max_size=600))
def test_any_bytes_decode_to_a_tick_or_a_dropped_frame(frame: bytes) -> None:
    assert isinstance(decode_frame(frame), QuoteTick | DroppedFrame)


@given(
    st.sampled_from(sorted(FRAME_SIZES)),
    st.binary(min_size=25, max_size=25),
    st.binary(min_size=400, max_size=400),
)
def test_frames_of_a_known_mode_with_any_content_never_raise(
    mode: int, token: bytes, rest: bytes
) -> None:
    frame = bytes([mode, 2]) + token + rest

    assert isinstance(decode_frame(frame[: FRAME_SIZES[mode]]), QuoteTick | DroppedFrame)


@given(st.text(max_size=300))
def test_any_text_is_a_pong_or_a_dropped_frame(text: str) -> None:
    assert decode_text(text) is None or isinstance(decode_text(text), DroppedFrame)


def test_the_pong_is_no_item() -> None:
    assert decode_text("pong") is None


def test_a_subscription_groups_tokens_by_exchange_type_in_snap_quote_mode() -> None:
    request = json.loads(subscription_request(1, {2: ["43210", "43211"], 1: ["99926000"]}, "c1"))

    assert request == {
        "correlationID": "c1",
        "action": 1,
        "params": {
            "mode": 3,
            "tokenList": [
                {"exchangeType": 1, "tokens": ["99926000"]},
                {"exchangeType": 2, "tokens": ["43210", "43211"]},
            ],
        },
    }
