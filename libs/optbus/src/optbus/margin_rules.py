"""The exchange's dated margin rules on index options and futures (docs/risk.md, "Margin").

The rules change by SEBI and exchange circular, so they live in ``optbus/data/margin-rules.toml``
with their sources and effective dates; this module only reads them and picks the entry in
force on a date. The scenario parameters of the margin model are the risk service's config.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import msgspec

from optbus.market import Confidence, in_force, read_data_file

_RULES_FILE = "margin-rules.toml"


class _RulesEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    effective_date: date
    source: str
    confidence: Confidence
    short_option_exposure_percent: float
    expiry_day_extra_elm_percent: float
    calendar_spread_benefit_on_expiry_day: bool
    long_premium_upfront: bool
    futures_exposure_percent: float


class _RulesFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    rules: list[_RulesEntry]


@dataclass(frozen=True, slots=True)
class MarginRules:
    """The exchange's margin rules on index options and futures from one effective date."""

    effective_date: date
    source: str
    short_option_exposure_percent: float
    expiry_day_extra_elm_percent: float
    calendar_spread_benefit_on_expiry_day: bool
    long_premium_upfront: bool
    futures_exposure_percent: float


@functools.cache
def load_margin_rules() -> tuple[MarginRules, ...]:
    """Every margin-rules entry shipped with optbus, oldest first (read once, immutable)."""
    parsed = read_data_file(_RULES_FILE, _RulesFile)
    entries = [
        MarginRules(
            effective_date=entry.effective_date,
            source=entry.source,
            short_option_exposure_percent=entry.short_option_exposure_percent,
            expiry_day_extra_elm_percent=entry.expiry_day_extra_elm_percent,
            calendar_spread_benefit_on_expiry_day=entry.calendar_spread_benefit_on_expiry_day,
            long_premium_upfront=entry.long_premium_upfront,
            futures_exposure_percent=entry.futures_exposure_percent,
        )
        for entry in parsed.rules
    ]
    return tuple(sorted(entries, key=lambda rules: rules.effective_date))


def margin_rules(on: date) -> MarginRules:
    """The margin rules in force on ``on``."""
    return in_force(list(load_margin_rules()), on, "margin rules")
