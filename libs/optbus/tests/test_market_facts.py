"""Market facts: the data files load, and the calendar answers match NSE's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from optbus.market import (
    CalendarNotCovered,
    MarketFacts,
    MarketFactsError,
    NotATradingDay,
    load_market_facts,
    load_reference_prices,
)
from optbus.timestamps import epoch_ns


@pytest.fixture(scope="module")
def facts() -> MarketFacts:
    return load_market_facts()


def test_nifty_contract_has_the_lot_freeze_and_step_of_the_data_file(facts: MarketFacts) -> None:
    nifty = facts.contract("NIFTY")

    assert (nifty.lot_size, nifty.freeze_quantity, nifty.strike_step) == (65, 1800, 50.0)


def test_banknifty_contract_has_the_lot_freeze_and_step_of_the_data_file(
    facts: MarketFacts,
) -> None:
    bank = facts.contract("BANKNIFTY")

    assert (bank.lot_size, bank.freeze_quantity, bank.strike_step) == (30, 600, 100.0)


def test_every_fact_names_its_source_and_effective_date(facts: MarketFacts) -> None:
    assert all(entry.source and entry.effective_date for entry in facts.contracts)
    assert all(entry.source and entry.effective_date for entry in facts.sessions)
    assert all(year.source for year in facts.holiday_years)


def test_an_unknown_underlying_is_refused_with_the_known_ones_named(facts: MarketFacts) -> None:
    with pytest.raises(MarketFactsError, match="NIFTY"):
        facts.contract("SENSEX")


def test_a_date_before_the_data_starts_has_no_contract(facts: MarketFacts) -> None:
    with pytest.raises(MarketFactsError, match="data starts"):
        facts.contract("NIFTY", on=date(2020, 1, 1))


def test_weekends_are_not_trading_days(facts: MarketFacts) -> None:
    saturday, sunday = date(2026, 11, 21), date(2026, 11, 22)

    assert not facts.is_trading_day(saturday)
    assert not facts.is_trading_day(sunday)


def test_a_listed_holiday_is_not_a_trading_day(facts: MarketFacts) -> None:
    assert not facts.is_trading_day(date(2026, 10, 2))


def test_an_ordinary_weekday_is_a_trading_day(facts: MarketFacts) -> None:
    assert facts.is_trading_day(date(2026, 11, 23))


def test_a_trading_day_is_its_own_first_trading_day(facts: MarketFacts) -> None:
    assert facts.trading_day_from(date(2026, 3, 30)) == date(2026, 3, 30)


def test_a_weekend_day_moves_to_the_next_trading_day(facts: MarketFacts) -> None:
    assert facts.trading_day_from(date(2026, 3, 28)) == date(2026, 3, 30)


def test_next_trading_day_skips_the_weekend_and_a_holiday(facts: MarketFacts) -> None:
    # 2026-03-31 (Tuesday) is Mahavir Jayanti; the Friday before, 27 March, trades.
    assert facts.next_trading_day(date(2026, 3, 27)) == date(2026, 3, 30)
    assert facts.next_trading_day(date(2026, 3, 30)) == date(2026, 4, 1)


def test_a_year_without_a_holiday_list_is_refused(facts: MarketFacts) -> None:
    with pytest.raises(CalendarNotCovered, match="2031"):
        facts.is_trading_day(date(2031, 6, 3))


def test_2027_is_on_file_but_marked_incomplete(facts: MarketFacts) -> None:
    assert facts.holiday_year(2026).complete
    assert not facts.holiday_year(2027).complete


def test_nifty_weekly_expiries_fall_on_tuesdays(facts: MarketFacts) -> None:
    expiries = facts.expiries("NIFTY", date(2026, 6, 1), 4)

    assert expiries == [date(2026, 6, 2), date(2026, 6, 9), date(2026, 6, 16), date(2026, 6, 23)]


def test_an_expiry_on_a_holiday_moves_to_the_previous_trading_day(facts: MarketFacts) -> None:
    # Tuesday 2026-11-24 is Guru Nanak Jayanti: that week's expiry is Monday the 23rd.
    assert facts.expiries("NIFTY", date(2026, 11, 18), 1) == [date(2026, 11, 23)]


def test_the_expiry_day_itself_still_counts_as_an_upcoming_expiry(facts: MarketFacts) -> None:
    assert facts.expiries("NIFTY", date(2026, 6, 9), 1) == [date(2026, 6, 9)]


def test_banknifty_has_only_monthly_expiries_on_the_last_tuesday(facts: MarketFacts) -> None:
    expiries = facts.expiries("BANKNIFTY", date(2026, 6, 1), 3)

    assert expiries == [date(2026, 6, 30), date(2026, 7, 28), date(2026, 8, 25)]


def test_a_monthly_expiry_on_a_holiday_moves_to_the_previous_trading_day(
    facts: MarketFacts,
) -> None:
    # Last Tuesday of March 2026 (the 31st) is a holiday; last of November (the 24th) too.
    assert facts.monthly_expiries("BANKNIFTY", date(2026, 3, 1), 1) == [date(2026, 3, 30)]
    assert facts.monthly_expiries("NIFTY", date(2026, 11, 1), 1) == [date(2026, 11, 23)]


def test_the_nifty_monthly_expiry_is_recognised_among_the_weeklies(facts: MarketFacts) -> None:
    assert facts.is_monthly_expiry("NIFTY", date(2026, 6, 30))
    assert not facts.is_monthly_expiry("NIFTY", date(2026, 6, 23))


def test_the_session_opens_at_0915_ist(facts: MarketFacts) -> None:
    opening = facts.session_open_ns(date(2026, 6, 2))

    assert datetime.fromtimestamp(opening / 1e9, tz=UTC) == datetime(2026, 6, 2, 3, 45, tzinfo=UTC)


def test_the_session_lasts_six_and_a_quarter_hours(facts: MarketFacts) -> None:
    day = date(2026, 6, 2)

    length = facts.session_close_ns(day) - facts.session_open_ns(day)

    assert length == int(timedelta(hours=6, minutes=15).total_seconds()) * 1_000_000_000


def test_an_expiry_closes_with_its_session(facts: MarketFacts) -> None:
    expiry = date(2026, 6, 30)

    assert facts.expiry_close_ns(expiry) == facts.session_close_ns(expiry)


def test_a_listed_day_closes_as_a_calendar_day_does(facts: MarketFacts) -> None:
    day = date(2026, 6, 30)

    assert facts.listed_close_ns(day) == facts.session_close_ns(day)


def test_a_listed_expiry_beyond_the_holiday_calendar_closes_at_1530_ist(
    facts: MarketFacts,
) -> None:
    closing = facts.listed_close_ns(date(2031, 6, 24))

    assert datetime.fromtimestamp(closing / 1e9, tz=UTC) == datetime(2031, 6, 24, 10, tzinfo=UTC)


def test_no_session_is_given_for_a_holiday(facts: MarketFacts) -> None:
    with pytest.raises(NotATradingDay, match="2026-10-02"):
        facts.session_open_ns(date(2026, 10, 2))


def test_the_exchange_time_zone_is_the_one_the_market_hours_name(facts: MarketFacts) -> None:
    assert facts.timezone.key == "Asia/Kolkata"


def test_a_late_utc_evening_is_already_the_next_day_on_the_exchange(facts: MarketFacts) -> None:
    late_evening = epoch_ns(datetime(2026, 11, 2, 20, 0, tzinfo=UTC))  # 01:30 IST on the 3rd

    assert facts.local_date(late_evening) == date(2026, 11, 3)


def test_midnight_on_the_exchange_begins_its_new_day(facts: MarketFacts) -> None:
    midnight = epoch_ns(datetime(2026, 11, 2, 18, 30, tzinfo=UTC))  # 00:00 IST on the 3rd

    assert facts.local_date(midnight) == date(2026, 11, 3)
    assert facts.local_date(midnight - 1) == date(2026, 11, 2)


def test_the_local_time_of_an_event_keeps_its_microseconds(facts: MarketFacts) -> None:
    moment = facts.local_datetime(epoch_ns(datetime(2026, 11, 3, 4, 0, tzinfo=UTC)) + 123_456_789)

    assert moment == datetime(2026, 11, 3, 9, 30, 0, 123_456, tzinfo=facts.timezone)
    assert moment.utcoffset() == timedelta(hours=5, minutes=30)


def test_loading_twice_gives_the_same_immutable_facts() -> None:
    first, second = load_market_facts(), load_market_facts()

    assert first is second
    with pytest.raises(TypeError):
        first.holiday_year(2026).holidays[date(2026, 1, 1)] = "New Year"  # type: ignore[index]


def test_a_nifty_lot_was_75_units_in_2025_and_is_65_from_2026(facts: MarketFacts) -> None:
    assert facts.contract("NIFTY", date(2025, 12, 31)).lot_size == 75
    assert facts.contract("NIFTY", date(2026, 1, 1)).lot_size == 65


def test_banknifty_freeze_quantity_was_900_units_in_2025(facts: MarketFacts) -> None:
    assert facts.contract("BANKNIFTY", date(2025, 6, 2)).freeze_quantity == 900


def test_nifty_weeklies_expired_on_thursday_until_the_september_2025_move_to_tuesday(
    facts: MarketFacts,
) -> None:
    assert facts.expiries("NIFTY", date(2025, 8, 25), 1) == [date(2025, 8, 28)]
    assert facts.expiries("NIFTY", date(2025, 9, 1), 1) == [date(2025, 9, 2)]


def test_a_2025_expiry_on_a_trading_holiday_moves_to_the_day_before(facts: MarketFacts) -> None:
    # Thursday 2025-04-10 was Mahavir Jayanti: that week's NIFTY contracts expired on Wednesday.
    assert facts.expiries("NIFTY", date(2025, 4, 7), 1) == [date(2025, 4, 9)]


SEGMENT_INDICES = ("NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "NIFTYNXT50")


def test_the_segment_lists_the_five_indices_and_at_least_180_stocks(facts: MarketFacts) -> None:
    underlyings = facts.underlyings(date(2026, 6, 1))

    assert set(SEGMENT_INDICES) <= set(underlyings)
    assert len(underlyings) - len(SEGMENT_INDICES) >= 180


@pytest.mark.parametrize("index", ["FINNIFTY", "MIDCPNIFTY", "NIFTYNXT50"])
def test_the_other_indices_have_monthly_contracts_only(facts: MarketFacts, index: str) -> None:
    assert not facts.contract(index, date(2026, 6, 1)).has_weekly_expiries


def test_a_stock_option_has_its_lot_and_strike_step_from_the_stock_file(
    facts: MarketFacts,
) -> None:
    reliance = facts.contract("RELIANCE", date(2026, 6, 1))

    assert (reliance.lot_size, reliance.strike_step) == (500, 20.0)
    assert "fo_mktlots" in reliance.source


def test_stock_options_expire_on_the_last_tuesday_of_the_month(facts: MarketFacts) -> None:
    expiries = facts.monthly_expiries("TCS", date(2026, 6, 1), 3)

    assert expiries == [date(2026, 6, 30), date(2026, 7, 28), date(2026, 8, 25)]


def test_stock_options_have_no_weekly_expiries(facts: MarketFacts) -> None:
    assert not facts.contract("INFY", date(2026, 6, 1)).has_weekly_expiries


def test_no_stock_contract_is_in_force_before_its_revision(facts: MarketFacts) -> None:
    assert "RELIANCE" not in facts.underlyings(date(2025, 6, 1))


def test_every_underlying_of_the_segment_has_a_reference_level(facts: MarketFacts) -> None:
    levels = load_reference_prices()

    assert set(facts.underlyings(date(2026, 6, 1))) <= set(levels.closes)
    assert levels.source
    assert levels.as_of == date(2025, 11, 28)
