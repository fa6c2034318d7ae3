"""SFeed ``native_batch`` frames into quotes: exact values, dropped frames, never an exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from optbus_brokers.feed import DroppedFrame, QuoteTick
from optbus_brokers.kotak_neo.frames import (
    DEPTH_ROW,
    HEADER,
    INDEX,
    INDEX_MESSAGE,
    MARKET_PICTURE,
    MARKET_PICTURE_MESSAGE,
    decode_frame,
)

NSE_FO = 2
DIVIDERS = {1: 100, NSE_FO: 100}
NO_INDICES: dict[str, str] = {}


def touch_line(
    *,
    token: int = 40_123,
    bid: tuple[int, int] = (1950, 130),
    ask: tuple[int, int] = (1985, 65),
    last: int = 1970,
    update_time: int = 1_796_275_800,
    trade_time: int = 1_796_275_790,
    level: int = 4,
    exchange: int = NSE_FO,
) -> bytes:
    body = MARKET_PICTURE.pack(
        token, 0, 0, 6_500, trade_time, update_time, 0, 0, 0, 0, last, 65, 0, 0, 1, 1, 0, 0,
        19_500, 0.0, 0, 5_000, 5, 0, 0, 65, 2, 1,
    )  # fmt: skip
    rows = DEPTH_ROW.pack(bid[1], bid[0], 2) + DEPTH_ROW.pack(ask[1], ask[0], 3)
    length = HEADER.size + len(body) + len(rows)
    return HEADER.pack(length, MARKET_PICTURE_MESSAGE, exchange, level, 0, 0, 0) + body + rows


def index_value(
    name: bytes = b"NIFTY 50", value: int = 2_401_235, seconds: int = 1_796_275_800
) -> bytes:
    body = INDEX.pack(26000, value, value, value, value, value, seconds, 0, 0, 0, 0.0, 2, 1, name)
    return HEADER.pack(HEADER.size + len(body), INDEX_MESSAGE, 1, 0, 0, 0, 0) + body


def test_a_touch_line_is_a_tick_in_rupees_and_nanoseconds() -> None:
    assert decode_frame(touch_line(), DIVIDERS, NO_INDICES) == [
        QuoteTick(
            token="40123",
            ts_exchange_ns=1_796_275_800_000_000_000,
            last=19.70,
            bid=19.50,
            ask=19.85,
            bid_size=130,
            ask_size=65,
            volume=6_500,
            open_interest=19_500,
            upper_circuit=50.0,
            lower_circuit=0.05,
        )
    ]


def test_the_divider_announced_for_the_exchange_scales_the_prices() -> None:
    (tick,) = decode_frame(touch_line(exchange=3), {3: 10_000_000}, NO_INDICES)

    assert isinstance(tick, QuoteTick)
    assert tick.bid == 1950 / 10_000_000


def test_a_side_without_a_price_has_no_quote_and_no_size() -> None:
    (tick,) = decode_frame(touch_line(bid=(0, 0)), DIVIDERS, NO_INDICES)

    assert isinstance(tick, QuoteTick)
    assert (tick.bid, tick.bid_size) == (None, 0)


def test_a_never_updated_quote_is_dated_by_its_last_trade() -> None:
    (tick,) = decode_frame(touch_line(update_time=-2_209_008_600), DIVIDERS, NO_INDICES)

    assert isinstance(tick, QuoteTick)
    assert tick.ts_exchange_ns == 1_796_275_790_000_000_000


def test_a_quote_without_any_exchange_time_is_dropped() -> None:
    frame = touch_line(update_time=0, trade_time=0)

    assert decode_frame(frame, DIVIDERS, NO_INDICES) == [DroppedFrame("no exchange time")]


def test_one_frame_carries_several_packets() -> None:
    frame = touch_line(token=1) + index_value() + touch_line(token=2)

    items = decode_frame(frame, DIVIDERS, {"nifty 50": "Nifty 50"})

    assert [item.token for item in items if isinstance(item, QuoteTick)] == ["1", "Nifty 50", "2"]


def test_an_index_is_named_by_its_subscribed_token_whatever_the_case() -> None:
    (tick,) = decode_frame(index_value(), DIVIDERS, {"nifty 50": "Nifty 50"})

    assert tick == QuoteTick(
        token="Nifty 50",
        ts_exchange_ns=1_796_275_800_000_000_000,
        last=24_012.35,
        bid=None,
        ask=None,
        bid_size=0,
        ask_size=0,
        volume=0,
        open_interest=0,
    )


def test_market_open_and_close_packets_carry_no_quote_and_are_not_errors() -> None:
    frame = HEADER.pack(9, 6511, 1, 0, 0, 0, 0) + HEADER.pack(9, 6521, 1, 0, 0, 0, 0)

    assert decode_frame(frame, DIVIDERS, NO_INDICES) == []


def test_a_mini_touch_line_is_dropped_as_a_mode_not_subscribed() -> None:
    (item,) = decode_frame(touch_line(level=1), DIVIDERS, NO_INDICES)

    assert isinstance(item, DroppedFrame)
    assert item.reason == "mini touch line, not subscribed"


def test_a_truncated_packet_after_a_good_one_keeps_the_good_one() -> None:
    good = touch_line(token=7)

    items = decode_frame(good + good[:50], DIVIDERS, NO_INDICES)

    assert isinstance(items[0], QuoteTick)
    assert items[1] == DroppedFrame("truncated packet")


@given(st.binary(max_size=600))
def test_any_bytes_decode_to_ticks_or_dropped_frames(frame: bytes) -> None:
    items = decode_frame(frame, DIVIDERS, NO_INDICES)

    assert all(isinstance(item, QuoteTick | DroppedFrame) for item in items)


@given(
    st.lists(st.sampled_from([touch_line(), index_value()]), max_size=4),
    st.binary(max_size=200),
)
def test_garbage_after_good_packets_never_loses_them(good: list[bytes], tail: bytes) -> None:
    items = decode_frame(b"".join(good) + tail, DIVIDERS, NO_INDICES)

    assert all(isinstance(item, QuoteTick) for item in items[: len(good)])


@given(
    bid=st.integers(1, 2**31 - 1),
    ask=st.integers(1, 2**31 - 1),
    sizes=st.tuples(st.integers(0, 2**62), st.integers(0, 2**62)),
    seconds=st.integers(1, 2**40),
)
def test_a_touch_lines_best_prices_and_sizes_survive_exactly(
    bid: int, ask: int, sizes: tuple[int, int], seconds: int
) -> None:
    frame = touch_line(bid=(bid, sizes[0]), ask=(ask, sizes[1]), update_time=seconds)

    (tick,) = decode_frame(frame, DIVIDERS, NO_INDICES)

    assert isinstance(tick, QuoteTick)
    assert (tick.bid, tick.ask, tick.bid_size, tick.ask_size) == (bid / 100, ask / 100, *sizes)
    assert tick.ts_exchange_ns == seconds * 1_000_000_000


@st.composite
def plausible_packets(draw: st.DrawFn) -> bytes:
    """A header of a known or unknown kind, its length honest or not, over any body."""
    body = draw(st.binary(max_size=260))
    code = draw(st.sampled_from([INDEX_MESSAGE, MARKET_PICTURE_MESSAGE, 104, 105, 6511, 0]))
    level = draw(st.sampled_from([0, 1, 2, 4, 8, 16, 255]))
    length = draw(st.sampled_from([HEADER.size + len(body), draw(st.integers(0, 2**16 - 1))]))
    exchange = draw(st.integers(-128, 127))
    return HEADER.pack(length, code, exchange, level, 0, 0, 0) + body


@given(st.lists(plausible_packets(), max_size=5))
def test_packets_of_any_kind_and_length_decode_without_raising(packets: list[bytes]) -> None:
    items = decode_frame(b"".join(packets), DIVIDERS, NO_INDICES)

    assert all(isinstance(item, QuoteTick | DroppedFrame) for item in items)
