import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_builders import CONFIG, EXPIRY, FORWARD, NIFTY_LOT, STRIKES, chain, contract

from optbus_risk.book import MissingMarketData
from optbus_risk.margin import margin_required, scenarios
from optbus_risk.quotes import Marks

CHAINS = {("NIFTY", EXPIRY): chain()}
MARKS = Marks(CHAINS)
MARGIN = CONFIG.margin
CE, PE = contract(FORWARD, "CE"), contract(FORWARD, "PE")


def test_the_scan_grid_has_every_move_both_vol_ways_plus_two_extremes() -> None:
    grid = scenarios(MARGIN)

    assert len(grid.weight) == (2 * MARGIN.price_scan_steps + 1) * 2 + 2


def test_the_scan_grid_reaches_the_full_price_scan_range() -> None:
    grid = scenarios(MARGIN)

    assert grid.forward_factor[0] == pytest.approx(1 - MARGIN.price_scan_pct / 100)


def test_a_long_option_needs_its_premium_and_nothing_more() -> None:
    quote_mid = CHAINS[("NIFTY", EXPIRY)].snapshot
    index = quote_mid.strikes.index(FORWARD)
    mid = (quote_mid.calls.bid[index] + quote_mid.calls.ask[index]) / 2

    result = margin_required({CE: NIFTY_LOT}, MARKS, MARGIN)

    assert result.total == pytest.approx(NIFTY_LOT * mid)


def test_a_short_option_needs_its_scan_loss_plus_exposure_margin() -> None:
    result = margin_required({CE: -NIFTY_LOT}, MARKS, MARGIN)

    spot = CHAINS[("NIFTY", EXPIRY)].snapshot.spot
    assert result.exposure == pytest.approx(NIFTY_LOT * spot * MARGIN.exposure_pct / 100)
    assert result.total == pytest.approx(result.scan_loss + result.exposure)


def test_protective_wings_lower_the_margin_of_a_short_strangle() -> None:
    strangle = {
        contract(FORWARD + 500, "CE"): -NIFTY_LOT,
        contract(FORWARD - 500, "PE"): -NIFTY_LOT,
    }
    wings = {contract(FORWARD + 700, "CE"): NIFTY_LOT, contract(FORWARD - 700, "PE"): NIFTY_LOT}

    naked = margin_required(strangle, MARKS, MARGIN).total
    condor = margin_required({**strangle, **wings}, MARKS, MARGIN).total

    assert condor < naked


def test_a_defined_risk_spread_needs_no_more_than_its_width_plus_exposure() -> None:
    width = 200.0
    spread = {contract(FORWARD, "CE"): -NIFTY_LOT, contract(FORWARD + width, "CE"): NIFTY_LOT}

    result = margin_required(spread, MARKS, MARGIN)

    assert result.scan_loss <= width * NIFTY_LOT


def test_a_contract_without_a_quote_cannot_be_margined() -> None:
    with pytest.raises(MissingMarketData, match="no quote"):
        margin_required({contract(FORWARD, "CE", expiry=EXPIRY.replace(day=15)): -1}, MARKS, MARGIN)


def test_an_empty_book_needs_no_margin() -> None:
    assert margin_required({}, MARKS, MARGIN).total == 0.0


strikes = st.sampled_from(STRIKES)
types = st.sampled_from(["CE", "PE"])
lots = st.integers(min_value=-10, max_value=10).filter(bool)
books = st.dictionaries(
    st.builds(contract, strikes, types), lots.map(lambda n: n * NIFTY_LOT), max_size=6
)


@settings(max_examples=60, deadline=None)
@given(books)
def test_margin_is_never_negative(book: dict) -> None:  # type: ignore[type-arg]
    assert margin_required(book, MARKS, MARGIN).total >= 0.0


@settings(max_examples=60, deadline=None)
@given(books)
def test_margin_of_a_long_only_book_is_its_premium(book: dict) -> None:  # type: ignore[type-arg]
    longs = {c: abs(q) for c, q in book.items()}

    result = margin_required(longs, MARKS, MARGIN)

    assert result.total == pytest.approx(result.long_premium)


@settings(max_examples=60, deadline=None)
@given(books, st.integers(min_value=2, max_value=5))
def test_margin_grows_in_proportion_to_the_size_of_the_book(book: dict, k: int) -> None:  # type: ignore[type-arg]
    scaled = {c: q * k for c, q in book.items()}

    single = margin_required(book, MARKS, MARGIN).total
    assert margin_required(scaled, MARKS, MARGIN).total == pytest.approx(k * single)
