"""The risk-free rate: the RBI decision in force on a date, in the unit pricing takes."""

from __future__ import annotations

from datetime import date

import pytest

from optbus.market import MarketFactsError, load_market_facts
from optbus.rates import DatedRate, load_risk_free_rates, risk_free_rate


def test_the_rate_on_a_date_is_the_last_decision_announced_by_then() -> None:
    assert risk_free_rate(date(2025, 6, 5)).percent == 6.00
    assert risk_free_rate(date(2025, 6, 6)).percent == 5.50


def test_the_rate_is_given_to_pricing_as_a_decimal_per_year() -> None:
    assert risk_free_rate(date(2024, 6, 3)).per_year == pytest.approx(0.065)


def test_a_date_before_the_first_decision_on_file_has_no_rate() -> None:
    with pytest.raises(MarketFactsError, match="no risk-free rate"):
        risk_free_rate(date(2023, 2, 7))


def test_every_rate_decision_names_its_source() -> None:
    assert all("rbi.org.in" in entry.source for entry in load_risk_free_rates())


def test_an_event_time_gets_the_rate_of_its_exchange_local_day() -> None:
    facts = load_market_facts()
    # 2025-06-06 00:10 in India is still 2025-06-05 in UTC: the Indian date decides.
    just_after_midnight_ist = facts.session_open_ns(date(2025, 6, 6)) - 9 * 3_600 * 10**9

    assert DatedRate(facts)(just_after_midnight_ist) == pytest.approx(0.055)
