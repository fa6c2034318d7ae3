"""Market orders become protected limits inside the exchange's price band, on the tick grid."""

from __future__ import annotations

import pytest
from execution_fixtures import CALL, DAY, FACTS, T0, chain
from hypothesis import given
from hypothesis import strategies as st

from optbus.quotes import OptionQuote
from optbus_execution.book import MarketBook
from optbus_execution.protection import Unprotectable, protected_limit
from optbus_execution.slippage import is_on_tick

BAND = FACTS.price_band(DAY)
TICK = 0.05


def _quote(bid: float, ask: float) -> OptionQuote:
    book = MarketBook(max_quote_age_ns=10**12)
    book.on_chain(chain(T0, bid=bid, ask=ask))
    quote = book.quote(CALL)
    assert quote is not None
    return quote


def test_the_band_on_file_is_twenty_rupees_below_fifty_and_forty_percent_above() -> None:
    assert BAND.range_around(30.0) == (10.0, 50.0)
    assert BAND.range_around(100.0) == pytest.approx((60.0, 140.0))


def test_a_buy_crosses_the_ask_by_the_protection() -> None:
    assert protected_limit("BUY", _quote(119.5, 120.5), BAND, TICK, 0.05) == 126.5


def test_a_sell_crosses_the_bid_by_the_protection() -> None:
    assert protected_limit("SELL", _quote(119.5, 120.5), BAND, TICK, 0.05) == 113.55


def test_a_buy_limit_never_leaves_the_band() -> None:
    limit = protected_limit("BUY", _quote(20.0, 21.0), BAND, TICK, 5.0)
    assert limit == BAND.range_around(20.5)[1]


def test_a_sell_limit_never_leaves_the_band() -> None:
    limit = protected_limit("SELL", _quote(100.0, 101.0), BAND, TICK, 0.9)
    assert limit == pytest.approx(BAND.range_around(100.5)[0])


def test_a_buy_without_an_ask_cannot_be_protected() -> None:
    with pytest.raises(Unprotectable, match="no ask"):
        protected_limit("BUY", _quote(119.5, 0.0), BAND, TICK, 0.05)


@given(
    bid=st.floats(0.05, 5_000.0),
    spread=st.floats(0.0, 50.0),
    protection=st.floats(0.0, 1.0),
    side=st.sampled_from(["BUY", "SELL"]),
)
def test_every_protected_limit_is_on_the_tick_inside_the_band_and_crosses_the_touch(
    bid: float, spread: float, protection: float, side: str
) -> None:
    quote = _quote(round(bid, 2), round(bid + spread, 2))
    limit = protected_limit(side, quote, BAND, TICK, protection)  # type: ignore[arg-type]
    reference = quote.reference_price
    assert reference is not None
    low, high = BAND.range_around(reference)
    assert is_on_tick(limit, TICK)
    assert low - 1e-9 <= limit <= high + 1e-9 or limit == TICK
    if side == "BUY":
        assert limit <= quote.ask * (1 + protection) + 1e-9
    else:
        assert limit >= quote.bid * (1 - protection) - 1e-9
