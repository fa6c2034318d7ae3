"""Breeze quote frames: breeze-connect's field order in, a tick or a reason out, never a raise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from optbus_brokers.feed import DroppedFrame, QuoteTick
from optbus_brokers.icici_breeze.frames import decode_quote_frame, quote_room

# 2026-12-07 10:00:00 IST
LTT_S = 1_796_617_800


def _option_frame(**changes: object) -> list[object]:
    fields: dict[str, object] = {
        "symbol": "4.1!35012",
        "open": 101.0,
        "last": 102.5,
        "high": 110.0,
        "low": 95.0,
        "change": 1.5,
        "bPrice": 102.45,
        "bQty": 650,
        "sPrice": 102.6,
        "sQty": 1300,
        "ltq": 65,
        "avgPrice": 101.8,
        "OI": 1_250_000,
        "CHNGOI": -4_500,
        "ttq": 182_000,
        "totalBuyQt": 20_000,
        "totalSellQ": 21_000,
        "ttv": 18_500_000.0,
        "trend": "",
        "lowerCktLm": 0.05,
        "upperCktLm": 410.0,
        "ltt": LTT_S,
        "close": 100.0,
    } | changes
    return list(fields.values())


def test_quote_room_is_nse_exchange_quotes_of_the_token() -> None:
    assert quote_room("NIFTY 50") == "4.1!NIFTY 50"


def test_an_option_frame_decodes_by_breeze_connects_positions() -> None:
    assert decode_quote_frame(_option_frame()) == QuoteTick(
        token="35012",
        ts_exchange_ns=LTT_S * 1_000_000_000,
        last=102.5,
        bid=102.45,
        ask=102.6,
        bid_size=650,
        ask_size=1300,
        volume=182_000,
        open_interest=1_250_000,
        upper_circuit=410.0,
        lower_circuit=0.05,
    )


def test_an_empty_bid_is_no_bid_and_no_size() -> None:
    tick = decode_quote_frame(_option_frame(bPrice=0.0, bQty=0))
    assert isinstance(tick, QuoteTick)
    assert (tick.bid, tick.bid_size) == (None, 0)


def test_numbers_sent_as_text_are_read() -> None:
    tick = decode_quote_frame(_option_frame(last="102.5", ttq="182000"))
    assert isinstance(tick, QuoteTick)
    assert (tick.last, tick.volume) == (102.5, 182_000)


def test_an_index_frame_has_twenty_one_fields_and_nulls_for_its_book() -> None:
    # As breeze-connect's README shows an index tick: no book, volume or circuits.
    frame = ["4.1!NIFTY 50", 24748.7, 25006.2, 25029.5, 24671.45, 1.03, *([None] * 10), "+"]
    frame += [None, None, LTT_S, 24750.9]
    assert decode_quote_frame(frame) == QuoteTick(
        token="NIFTY 50",
        ts_exchange_ns=LTT_S * 1_000_000_000,
        last=25006.2,
        bid=None,
        ask=None,
        bid_size=0,
        ask_size=0,
        volume=0,
        open_interest=0,
    )


def test_a_null_open_interest_change_is_ignored_and_a_null_volume_is_none() -> None:
    tick = decode_quote_frame(_option_frame(CHNGOI=None, ttq=None))
    assert isinstance(tick, QuoteTick)
    assert (tick.volume, tick.open_interest) == (0, 1_250_000)


def test_a_frame_without_a_last_price_is_dropped() -> None:
    assert decode_quote_frame(_option_frame(last=None)) == DroppedFrame("last price missing")


def test_a_fractional_size_is_dropped() -> None:
    dropped = decode_quote_frame(_option_frame(bQty=6.5))
    assert dropped == DroppedFrame("bid size not a whole number")


def test_a_frame_of_another_exchange_is_dropped() -> None:
    dropped = decode_quote_frame(_option_frame(symbol="1.1!500112"))
    assert dropped == DroppedFrame("exchange or quote type not followed")


def test_a_time_before_2000_is_dropped() -> None:
    dropped = decode_quote_frame(_option_frame(ltt=12))
    assert dropped == DroppedFrame("last trade time outside 2000-2100")


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.binary(max_size=8),
)
_json_like = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@given(_json_like)
def test_any_payload_is_a_tick_or_a_dropped_frame(payload: object) -> None:
    assert isinstance(decode_quote_frame(payload), QuoteTick | DroppedFrame)


_REASON_WORDS = 48  # the service cuts a reason there for its metric label


@given(st.sampled_from([21, 23]).flatmap(lambda n: st.lists(_scalars, min_size=n, max_size=n)))
def test_a_drop_reason_is_short_and_names_no_value_of_the_frame(frame: list[object]) -> None:
    item = decode_quote_frame(frame)
    if isinstance(item, DroppedFrame):
        assert len(item.reason) <= _REASON_WORDS
        assert not any(char.isdigit() for char in item.reason.replace("2000-2100", ""))


@given(
    st.sampled_from([21, 23]).flatmap(
        lambda n: st.lists(_scalars, min_size=n - 1, max_size=n - 1).map(
            lambda rest: ["4.1!35012", *rest]
        )
    )
)
def test_any_fields_in_a_frame_of_the_right_length_never_raise(frame: list[object]) -> None:
    assert isinstance(decode_quote_frame(frame), QuoteTick | DroppedFrame)


@given(st.integers(min_value=0, max_value=22), _scalars)
def test_any_one_field_changed_never_raises(position: int, value: object) -> None:
    frame = _option_frame()
    frame[position] = value
    assert isinstance(decode_quote_frame(frame), QuoteTick | DroppedFrame)
