"""The risk-free rate pricing uses, dated (docs/pricing.md, "Rate").

The RBI's policy repo rate changes on announced dates, so it lives in
``optbus/data/risk-free-rate.toml`` with each decision's date and source; this module picks
the rate in force on a trading day. Nothing here reads the wall clock.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date

import msgspec

from optbus.market import Confidence, MarketFacts, in_force, read_data_file

_RATES_FILE = "risk-free-rate.toml"
_PERCENT = 100.0


class _RateEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    effective_date: date
    source: str
    confidence: Confidence
    instrument: str
    percent: float


class _RatesFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    rate: list[_RateEntry]


@dataclass(frozen=True, slots=True)
class RiskFreeRate:
    """One rate decision: the rate from its effective date, and where it comes from."""

    effective_date: date
    source: str
    instrument: str
    percent: float

    @property
    def per_year(self) -> float:
        """The rate as pricing takes it: a decimal per year (0.065 is 6.5%)."""
        return self.percent / _PERCENT


@functools.cache
def load_risk_free_rates() -> tuple[RiskFreeRate, ...]:
    """Every rate decision shipped with optbus, oldest first (read once, immutable)."""
    parsed = read_data_file(_RATES_FILE, _RatesFile)
    entries = [
        RiskFreeRate(
            effective_date=entry.effective_date,
            source=entry.source,
            instrument=entry.instrument,
            percent=entry.percent,
        )
        for entry in parsed.rate
    ]
    return tuple(sorted(entries, key=lambda entry: entry.effective_date))


def risk_free_rate(on: date) -> RiskFreeRate:
    """The rate in force on ``on``."""
    return in_force(list(load_risk_free_rates()), on, "risk-free rate")


@dataclass(frozen=True)
class DatedRate:
    """The rate in force at an event time (epoch ns), by the event's exchange-local date.

    Called for every chain, so each day's rate is looked up once.
    """

    facts: MarketFacts
    _by_day: dict[date, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __call__(self, ts_ns: int) -> float:
        """The rate, a decimal per year, in force on the trading day of ``ts_ns``."""
        day = self.facts.local_date(ts_ns)
        rate = self._by_day.get(day)
        if rate is None:
            rate = self._by_day[day] = risk_free_rate(day).per_year
        return rate
