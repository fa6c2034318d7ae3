from dataclasses import replace
from datetime import date

from optbus.events import Contract
from optbus.quotes import OptionQuote, strike_index

CONTRACT = Contract(underlying="NIFTY", expiry=date(2026, 12, 8), strike=26_000.0, option_type="CE")
QUOTE = OptionQuote(
    contract=CONTRACT, ts=1, bid=100.0, ask=101.0, bid_size=65, ask_size=130, last=100.5,
    iv=0.14, delta=0.5, gamma=0.001, theta=-9.0, vega=12.0, spot=26_000.0, forward=26_040.0,
    rate=0.065, time_to_expiry=0.02, pcr=0.9, open_interest=1_000,
)  # fmt: skip


def test_a_two_sided_quote_is_marked_at_its_mid() -> None:
    assert QUOTE.mark == 100.5


def test_a_quote_without_an_ask_is_marked_at_its_last_price() -> None:
    assert replace(QUOTE, ask=0.0, ask_size=0, last=99.0).mark == 99.0


def test_a_one_sided_quote_has_the_side_there_is_as_its_indicative_price() -> None:
    assert replace(QUOTE, ask=0.0, ask_size=0).indicative_price == 100.0


def test_a_strike_the_chain_does_not_list_has_no_index() -> None:
    assert strike_index([25_950.0, 26_000.0], 26_050.0) is None


def test_a_listed_strike_is_found_despite_float_noise() -> None:
    assert strike_index([25_950.0, 26_000.0000000001], 26_000.0) == 1
