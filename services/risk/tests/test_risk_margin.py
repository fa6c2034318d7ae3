from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_builders import CONFIG, DAY, EXPIRY, FACTS, FORWARD, NIFTY_LOT, STRIKES, chain, contract

from optbus.events import Contract, futures_contract
from optbus.margin_rules import margin_rules
from optbus.span import parse_span
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

    result = margin_required({CE: NIFTY_LOT}, MARKS, MARGIN, DAY)

    assert result.total == pytest.approx(NIFTY_LOT * mid)


def test_a_short_option_needs_its_scan_loss_plus_exposure_margin() -> None:
    result = margin_required({CE: -NIFTY_LOT}, MARKS, MARGIN, DAY)

    spot = CHAINS[("NIFTY", EXPIRY)].snapshot.spot
    exposure_pct = margin_rules(DAY).short_option_exposure_percent
    assert result.exposure == pytest.approx(NIFTY_LOT * spot * exposure_pct / 100)
    assert result.total == pytest.approx(result.scan_loss + result.exposure)


def test_protective_wings_lower_the_margin_of_a_short_strangle() -> None:
    strangle = {
        contract(FORWARD + 500, "CE"): -NIFTY_LOT,
        contract(FORWARD - 500, "PE"): -NIFTY_LOT,
    }
    wings = {contract(FORWARD + 700, "CE"): NIFTY_LOT, contract(FORWARD - 700, "PE"): NIFTY_LOT}

    naked = margin_required(strangle, MARKS, MARGIN, DAY).total
    condor = margin_required({**strangle, **wings}, MARKS, MARGIN, DAY).total

    assert condor < naked


def test_a_defined_risk_spread_needs_no_more_than_its_width_plus_exposure() -> None:
    width = 200.0
    spread = {contract(FORWARD, "CE"): -NIFTY_LOT, contract(FORWARD + width, "CE"): NIFTY_LOT}

    result = margin_required(spread, MARKS, MARGIN, DAY)

    assert result.scan_loss <= width * NIFTY_LOT


def test_a_contract_without_a_quote_cannot_be_margined() -> None:
    unquoted = contract(FORWARD, "CE", expiry=EXPIRY.replace(day=15))
    with pytest.raises(MissingMarketData, match="no quote"):
        margin_required({unquoted: -1}, MARKS, MARGIN, DAY)


def test_an_empty_book_needs_no_margin() -> None:
    assert margin_required({}, MARKS, MARGIN, DAY).total == 0.0


strikes = st.sampled_from(STRIKES)
types = st.sampled_from(["CE", "PE"])
lots = st.integers(min_value=-10, max_value=10).filter(bool)
books = st.dictionaries(
    st.builds(contract, strikes, types), lots.map(lambda n: n * NIFTY_LOT), max_size=6
)


@settings(max_examples=60, deadline=None)
@given(books)
def test_margin_is_never_negative(book: dict) -> None:  # type: ignore[type-arg]
    assert margin_required(book, MARKS, MARGIN, DAY).total >= 0.0


@settings(max_examples=60, deadline=None)
@given(books)
def test_margin_of_a_long_only_book_is_its_premium(book: dict) -> None:  # type: ignore[type-arg]
    longs = {c: abs(q) for c, q in book.items()}

    result = margin_required(longs, MARKS, MARGIN, DAY)

    assert result.total == pytest.approx(result.long_premium)


@settings(max_examples=60, deadline=None)
@given(books, st.integers(min_value=2, max_value=5))
def test_margin_grows_in_proportion_to_the_size_of_the_book(book: dict, k: int) -> None:  # type: ignore[type-arg]
    scaled = {c: q * k for c, q in book.items()}

    single = margin_required(book, MARKS, MARGIN, DAY).total
    assert margin_required(scaled, MARKS, MARGIN, DAY).total == pytest.approx(k * single)


# A short strangle of one lot, 500 points either side of a 26,000 forward (spot 25,980), on the
# last afternoons of its life: so little time is left that every scenario prices at intrinsic
# value and the margin can be worked out by hand. The worst scenario is the full 6% scan either
# way: the short call (or put) is then (1.06 x 26,000 - 26,500) = 1,060 points in the money, a
# loss of 1,060 x 65 = 68,900, less the strangle's premium now (about Rs 46 on the eve of expiry,
# under a rupee on the expiry afternoon, hence the tolerances). The two
# extreme moves (12%, of which 35% counts) lose less: (29,120 - 26,500) x 0.35 = 917 points.
# Exposure margin: 2% of the short notional, 2 x 65 x 25,980 x 2% = 67,548.
STRANGLE = {contract(FORWARD + 500, "CE"): -NIFTY_LOT, contract(FORWARD - 500, "PE"): -NIFTY_LOT}
STRANGLE_SCAN_LOSS = 68_900.0
STRANGLE_EXPOSURE = 67_548.0
EXPIRY_AFTERNOON_NS = FACTS.session_close_ns(EXPIRY) - 30 * 60 * 10**9
EVE_CLOSE_NS = FACTS.session_close_ns(EXPIRY - timedelta(days=1)) - 60 * 10**9


def test_a_short_strangle_on_the_eve_of_expiry_needs_scan_loss_plus_exposure() -> None:
    marks = Marks({("NIFTY", EXPIRY): chain(ts=EVE_CLOSE_NS)})

    result = margin_required(STRANGLE, marks, MARGIN, EXPIRY - timedelta(days=1))

    assert result.scan_loss == pytest.approx(STRANGLE_SCAN_LOSS, abs=60.0)
    assert result.exposure == pytest.approx(STRANGLE_EXPOSURE)
    assert result.expiry_day_elm == 0.0
    assert result.total == pytest.approx(68_900.0 + 67_548.0, abs=60.0)


def test_a_short_strangle_on_its_expiry_day_adds_two_percent_extreme_loss_margin() -> None:
    marks = Marks({("NIFTY", EXPIRY): chain(ts=EXPIRY_AFTERNOON_NS)})

    result = margin_required(STRANGLE, marks, MARGIN, EXPIRY)

    assert result.scan_loss == pytest.approx(STRANGLE_SCAN_LOSS, abs=1.0)
    assert result.expiry_day_elm == pytest.approx(67_548.0)
    assert result.total == pytest.approx(68_900.0 + 67_548.0 + 67_548.0, abs=1.0)


NEXT_EXPIRY = EXPIRY + timedelta(days=7)
CALENDAR = {
    contract(FORWARD, "CE"): -NIFTY_LOT,
    contract(FORWARD, "CE", expiry=NEXT_EXPIRY): NIFTY_LOT,
}


def _calendar_marks(ts: int) -> Marks:
    return Marks(
        {("NIFTY", EXPIRY): chain(ts=ts), ("NIFTY", NEXT_EXPIRY): chain(ts=ts, expiry=NEXT_EXPIRY)}
    )


def _legs_margined_alone(book: dict[Contract, int], marks: Marks, on: date) -> float:
    return sum(margin_required({c: q}, marks, MARGIN, on).total for c, q in book.items())


def test_a_calendar_spread_offsets_its_expiries_before_expiry_day() -> None:
    marks = _calendar_marks(EVE_CLOSE_NS)
    eve = EXPIRY - timedelta(days=1)

    together = margin_required(CALENDAR, marks, MARGIN, eve).total

    assert together < _legs_margined_alone(CALENDAR, marks, eve)


def test_a_calendar_spread_gets_no_offset_on_the_near_expiry_day() -> None:
    marks = _calendar_marks(EXPIRY_AFTERNOON_NS)

    together = margin_required(CALENDAR, marks, MARGIN, EXPIRY).total

    assert together == pytest.approx(_legs_margined_alone(CALENDAR, marks, EXPIRY))


def test_the_expiry_day_rules_take_effect_on_their_circular_dates() -> None:
    assert margin_rules(date(2024, 11, 19)).expiry_day_extra_elm_percent == 0.0
    assert margin_rules(date(2024, 11, 20)).expiry_day_extra_elm_percent == 2.0
    assert margin_rules(date(2025, 1, 31)).calendar_spread_benefit_on_expiry_day
    assert not margin_rules(date(2025, 2, 1)).calendar_spread_benefit_on_expiry_day


def test_a_long_option_needs_no_exchange_margin_before_upfront_premium_was_required() -> None:
    result = margin_required({CE: NIFTY_LOT}, MARKS, MARGIN, date(2025, 1, 31))

    assert result.total == 0.0


# The sample SPAN file (tests/data) is of 2026-12-07 and holds the strangle's two options.
# Short one lot of each: the loss of scenario i is -65 x (call_i + put_i); the worst is scenario
# 15 (an extreme move up), -65 x (-350 + 4) = 22,490.
SPAN = parse_span((Path(__file__).parents[3] / "tests/data/nse-span-20261207.spn").read_bytes())


def test_the_span_files_risk_arrays_give_the_scan_loss_on_its_business_date() -> None:
    marks = Marks({("NIFTY", EXPIRY): chain(ts=EVE_CLOSE_NS)})

    result = margin_required(STRANGLE, marks, MARGIN, SPAN.business_date, SPAN)

    assert result.scan_loss == pytest.approx(22_490.0)
    assert result.total == pytest.approx(22_490.0 + STRANGLE_EXPOSURE)


def test_a_span_file_of_another_day_leaves_the_scenario_model_in_charge() -> None:
    marks = Marks({("NIFTY", EXPIRY): chain(ts=EXPIRY_AFTERNOON_NS)})

    result = margin_required(STRANGLE, marks, MARGIN, EXPIRY, SPAN)

    assert result.scan_loss == pytest.approx(STRANGLE_SCAN_LOSS, abs=1.0)


def test_a_contract_missing_from_the_span_file_leaves_its_group_to_the_scenario_model() -> None:
    marks = Marks({("NIFTY", EXPIRY): chain(ts=EVE_CLOSE_NS)})
    wider = {**STRANGLE, contract(FORWARD + 700, "CE"): NIFTY_LOT}

    with_span = margin_required(wider, marks, MARGIN, SPAN.business_date, SPAN)
    without = margin_required(wider, marks, MARGIN, SPAN.business_date)

    assert with_span == without


# A future of the chain's own expiry (the test chain quotes it at its futures price, FORWARD).
FUTURE = futures_contract("NIFTY", EXPIRY)


def test_a_long_future_needs_its_scan_loss_plus_futures_exposure_margin() -> None:
    # The scan: the full -6% move loses 65 x 26,000 x 6% = 101,400 (the 12% extremes count
    # 35%: 4.2%, less). Exposure: 2% of 65 x 26,000 = 33,800. No premium.
    result = margin_required({FUTURE: NIFTY_LOT}, MARKS, MARGIN, DAY)

    assert result.scan_loss == pytest.approx(101_400.0)
    assert result.exposure == pytest.approx(33_800.0)
    assert (result.long_premium, result.total) == (0.0, pytest.approx(135_200.0))


def test_a_short_future_needs_the_same_margin_as_a_long_one() -> None:
    long = margin_required({FUTURE: NIFTY_LOT}, MARKS, MARGIN, DAY).total
    short = margin_required({FUTURE: -NIFTY_LOT}, MARKS, MARGIN, DAY).total

    assert short == pytest.approx(long)  # a symmetric scan of a linear price


def test_a_short_future_hedging_a_long_call_scans_below_the_future_alone() -> None:
    alone = margin_required({FUTURE: -NIFTY_LOT}, MARKS, MARGIN, DAY).scan_loss
    hedged = margin_required({FUTURE: -NIFTY_LOT, CE: 2 * NIFTY_LOT}, MARKS, MARGIN, DAY)

    assert hedged.scan_loss < alone
