"""The broker's instrument master against optbus's dated contract data."""

from __future__ import annotations

from datetime import date

from feed_builders import TODAY, instrument, nifty_master

from optbus.market import MarketFacts
from optbus_market_data.feeds.crosscheck import cross_check


def test_a_master_that_agrees_with_the_contract_data_raises_nothing(facts: MarketFacts) -> None:
    assert cross_check(nifty_master(), ["NIFTY"], facts, TODAY) == []


def test_another_lot_size_is_a_disagreement(facts: MarketFacts) -> None:
    [finding] = cross_check(nifty_master(lot_size=75), ["NIFTY"], facts, TODAY)

    assert finding.underlying == "NIFTY"
    assert "lot size [75]" in finding.detail
    assert "65" in finding.detail


def test_another_strike_step_is_a_disagreement(facts: MarketFacts) -> None:
    strikes = tuple(float(s) for s in range(24_000, 26_001, 100))

    [finding] = cross_check(nifty_master(strikes=strikes), ["NIFTY"], facts, TODAY)

    assert "strike step 100" in finding.detail


def test_an_expiry_on_another_weekday_is_a_disagreement(facts: MarketFacts) -> None:
    thursday = date(2026, 12, 10)
    master = [*nifty_master(), instrument("X", "call", thursday, 25_000.0)]

    [finding] = cross_check(master, ["NIFTY"], facts, TODAY)

    assert "2026-12-10" in finding.detail


def test_only_the_followed_underlyings_are_checked(facts: MarketFacts) -> None:
    other = instrument("B", "call", date(2026, 12, 29), 50_000.0, "BANKNIFTY", lot_size=35)

    assert cross_check([*nifty_master(), other], ["NIFTY"], facts, TODAY) == []
