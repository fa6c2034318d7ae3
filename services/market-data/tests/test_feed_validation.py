"""Which broker quotes may enter a chain: every other is dropped with its reason."""

from __future__ import annotations

import math

from feed_builders import NIFTY_EXPIRIES, nifty_master, option_token, tick
from hypothesis import given
from hypothesis import strategies as st

from optbus_brokers.feed import QuoteTick
from optbus_market_data.feeds.validation import DROP_REASONS, drop_reason, frame_reason_label

KNOWN = {i.token: i for i in nifty_master()}
CALL = option_token(NIFTY_EXPIRIES[0], 25_000.0, "call")


def test_a_two_sided_quote_of_a_known_option_is_usable() -> None:
    assert drop_reason(tick(CALL), KNOWN) is None


def test_a_one_sided_quote_is_usable() -> None:
    assert drop_reason(tick(CALL, bid=None, bid_size=0), KNOWN) is None


def test_an_untraded_option_with_a_quote_is_usable() -> None:
    assert drop_reason(tick(CALL, last=0.0), KNOWN) is None


def test_a_token_outside_the_master_is_unknown() -> None:
    assert drop_reason(tick("999999"), KNOWN) == "unknown_token"


def test_a_bid_above_the_ask_is_crossed() -> None:
    assert drop_reason(tick(CALL, bid=101.0, ask=100.0), KNOWN) == "crossed"


def test_a_zero_bid_is_a_non_positive_price() -> None:
    assert drop_reason(tick(CALL, bid=0.0), KNOWN) == "non_positive_price"


def test_a_negative_last_is_a_non_positive_price() -> None:
    assert drop_reason(tick(CALL, last=-1.0), KNOWN) == "non_positive_price"


def test_an_index_at_zero_is_an_empty_quote() -> None:
    assert drop_reason(tick("NIFTY", last=0.0, bid=None, ask=None), KNOWN) == "empty_quote"


def test_an_option_with_neither_a_quote_nor_a_trade_is_an_empty_quote() -> None:
    assert drop_reason(tick(CALL, last=0.0, bid=None, ask=None), KNOWN) == "empty_quote"


def test_a_not_a_number_price_is_non_finite() -> None:
    assert drop_reason(tick(CALL, ask=math.nan), KNOWN) == "non_finite_price"


def test_a_negative_size_is_dropped() -> None:
    assert drop_reason(tick(CALL, ask_size=-1), KNOWN) == "negative_size"


def test_a_size_past_what_a_chain_carries_is_dropped() -> None:
    assert drop_reason(tick(CALL, bid_size=2**40 + 7), KNOWN) == "oversized"


def test_an_open_interest_past_a_bigint_is_dropped() -> None:
    assert drop_reason(tick(CALL, open_interest=2**63), KNOWN) == "oversized"


def test_a_price_above_the_upper_circuit_is_outside_it() -> None:
    quote = tick(CALL, last=100.0, bid=99.5, ask=120.5, upper_circuit=120.0, lower_circuit=1.0)

    assert drop_reason(quote, KNOWN) == "outside_circuit"


def test_a_price_below_the_lower_circuit_is_outside_it() -> None:
    quote = tick(CALL, last=100.0, bid=0.5, ask=100.5, upper_circuit=200.0, lower_circuit=1.0)

    assert drop_reason(quote, KNOWN) == "outside_circuit"


def test_a_zero_circuit_limit_is_no_limit() -> None:
    assert drop_reason(tick(CALL, lower_circuit=0.0, upper_circuit=0.0), KNOWN) is None


_prices = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@given(
    token=st.sampled_from([*KNOWN, "unknown"]),
    last=st.floats(allow_nan=True, allow_infinity=True),
    bid=_prices,
    ask=_prices,
    sizes=st.tuples(*(st.integers(-(2**40), 2**40) for _ in range(4))),
    circuits=st.tuples(_prices, _prices),
)
def test_any_quote_is_either_usable_or_dropped_with_a_known_reason(
    token: str, last: float, bid: float | None, ask: float | None,
    sizes: tuple[int, int, int, int], circuits: tuple[float | None, float | None],
) -> None:  # fmt: skip
    quote = QuoteTick(
        token=token, ts_exchange_ns=0, last=last, bid=bid, ask=ask, bid_size=sizes[0],
        ask_size=sizes[1], volume=sizes[2], open_interest=sizes[3], lower_circuit=circuits[0],
        upper_circuit=circuits[1],
    )  # fmt: skip

    assert drop_reason(quote, KNOWN) in (None, *DROP_REASONS)


def test_a_frame_reason_label_keeps_fixed_words() -> None:
    assert frame_reason_label("truncated") == "truncated"


def test_a_frame_reason_label_turns_numbers_into_n() -> None:
    assert frame_reason_label("unknown subscription mode 7") == "unknown subscription mode N"


def test_a_frame_reason_label_drops_the_detail_after_a_colon() -> None:
    assert frame_reason_label("SmartStream error E1002: Invalid token") == "SmartStream error EN"


@given(st.text())
def test_any_frame_reason_becomes_a_short_label(reason: str) -> None:
    label = frame_reason_label(reason)

    assert 0 < len(label) <= 48
