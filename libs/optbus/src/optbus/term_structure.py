"""The end-of-day term structure of an index's implied volatility, from NSE's F&O bhavcopy.

For one index and one trading day: every expiry listed after the day, with its ATM implied
volatility read from the day's settlement prices as ``optbus.atm_iv`` reads one, its forward
(the index future's settlement price where the day's file settles a future of that expiry,
else put-call parity at the ATM strike), and its time to expiry in calendar days and in years
from the day's close. An expiry whose options give no ATM IV is listed as such, not dropped
without a word. docs/history.md, "Term structure". Nothing here reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from optbus.atm_iv import INDEX_OPTIONS, atm_iv_of_expiry
from optbus.bhavcopy import BhavcopyRow
from optbus.market import MarketFacts

_INDEX_FUTURES = "IDF"

ForwardSource = Literal["future", "parity"]


class NoBhavcopyRows(ValueError):
    """The bhavcopy rows given hold no index option of the underlying on the day."""


@dataclass(frozen=True, slots=True)
class ExpiryPoint:
    """One expiry of the term structure."""

    expiry: date
    days: int
    """Calendar days from the trading day to the expiry."""
    years: float
    """From the trading day's close to the expiry's close, ACT/365."""
    forward: float
    forward_source: ForwardSource
    strike: float
    """The ATM strike the IV was read at: the one nearest the forward with both legs settled."""
    iv: float


@dataclass(frozen=True, slots=True)
class TermStructure:
    """An index's ATM implied volatility by expiry at one day's settlement, nearest first."""

    underlying: str
    day: date
    points: tuple[ExpiryPoint, ...]
    without_iv: tuple[date, ...]
    """Expiries listed after the day with no call and put settled at one strike, or whose
    implied volatility does not solve."""


def term_structure(
    rows: Iterable[BhavcopyRow], underlying: str, day: date, facts: MarketFacts
) -> TermStructure:
    """The term structure of ``underlying`` on ``day`` from that day's bhavcopy rows (rows of
    other days and underlyings are passed over); raises ``NoBhavcopyRows`` when none is an
    index option of it on that day."""
    options: dict[date, list[BhavcopyRow]] = {}
    futures: dict[date, float] = {}
    listed = False
    for row in rows:
        if row.underlying != underlying or row.trade_date != day:
            continue
        if row.instrument_type == INDEX_OPTIONS:
            listed = True
            if row.expiry > day:
                options.setdefault(row.expiry, []).append(row)
        elif row.instrument_type == _INDEX_FUTURES and row.settlement_price > 0:
            futures[row.expiry] = row.settlement_price
    if not listed:
        raise NoBhavcopyRows(f"no {underlying} index options in the bhavcopy of {day.isoformat()}")
    points: list[ExpiryPoint] = []
    without_iv: list[date] = []
    for expiry in sorted(options):
        future = futures.get(expiry)
        read = atm_iv_of_expiry(options[expiry], expiry, facts, forward=future)
        if read is None:
            without_iv.append(expiry)
            continue
        points.append(
            ExpiryPoint(
                expiry=expiry,
                days=(expiry - day).days,
                years=read.years,
                forward=read.forward,
                forward_source="parity" if future is None else "future",
                strike=read.strike,
                iv=read.iv,
            )
        )
    return TermStructure(underlying, day, tuple(points), tuple(without_iv))
