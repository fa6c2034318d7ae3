"""The broker's instrument master against optbus's dated contract data.

Lot sizes, strike steps and expiry days change by exchange circular; optbus keeps them as dated
data (``optbus.market``). When a broker's master disagrees, one of the two is out of date, and
trading on the wrong one sizes orders wrongly: every disagreement becomes one finding per
underlying and field (not one per instrument), for a loud data-quality event.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from optbus.market import CalendarNotCovered, MarketFacts
from optbus_brokers.feed import Instrument

_STRIKE_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One field on which the broker and optbus's contract data disagree."""

    underlying: str
    detail: str


def cross_check(
    instruments: Sequence[Instrument], underlyings: Sequence[str], facts: MarketFacts, today: date
) -> list[Disagreement]:
    """Lot size, strike step and expiry days of the followed underlyings' derivatives."""
    found: list[Disagreement] = []
    for underlying in underlyings:
        spec = facts.contract(underlying, today)
        derivatives = [
            i for i in instruments
            if i.underlying == underlying and i.kind != "index" and i.expiry is not None
            and i.expiry >= today
        ]  # fmt: skip
        lots = sorted({i.lot_size for i in derivatives} - {spec.lot_size})
        if lots:
            found.append(_disagreement(underlying, f"lot size {lots}", f"{spec.lot_size}"))
        step = _smallest_strike_step(derivatives)
        if step is not None and abs(step - spec.strike_step) > _STRIKE_TOLERANCE:
            broker_step, optbus_step = f"strike step {step:g}", f"{spec.strike_step:g}"
            found.append(_disagreement(underlying, broker_step, optbus_step))
        odd = _unexpected_expiries(underlying, derivatives, facts)
        if odd:
            listed = ", ".join(d.isoformat() for d in odd)
            found.append(_disagreement(underlying, f"expiries {listed}", "other expiry days"))
    return found


def _disagreement(underlying: str, broker_says: str, optbus_says: str) -> Disagreement:
    return Disagreement(
        underlying,
        f"{broker_says} in the broker's master, {optbus_says} in optbus's contract data",
    )


def _smallest_strike_step(derivatives: Sequence[Instrument]) -> float | None:
    """The smallest gap between neighbouring strikes of any one expiry (far strikes are wider)."""
    steps: list[float] = []
    for expiry in {i.expiry for i in derivatives}:
        strikes = sorted({i.strike for i in derivatives if i.expiry == expiry and i.strike})
        steps.extend(b - a for a, b in itertools.pairwise(strikes))
    return min(steps) if steps else None


def _unexpected_expiries(
    underlying: str, derivatives: Sequence[Instrument], facts: MarketFacts
) -> list[date]:
    odd: list[date] = []
    for expiry in sorted({i.expiry for i in derivatives if i.expiry is not None}):
        try:
            expected = facts.expiries(underlying, expiry, 1)[0]
        except CalendarNotCovered:
            continue  # beyond the holiday calendar on file: nothing to check against
        if expected != expiry:
            odd.append(expiry)
    return odd
