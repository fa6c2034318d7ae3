"""IV rank and IV percentile over 252 trading days, from NSE's end-of-day bhavcopy.

One ATM implied volatility per day: from the day's bhavcopy rows of an index, the nearest
expiry after that day, read as ``optbus.atm_iv`` reads an expiry (the forward from put-call
parity, the strike nearest it with a call and a put settled, the mean of their Black-76
implied volatilities at the day's close). Over the last 252 such days: the rank is where
today's IV sits between the window's low and high (0 at the low, 1 at the high), the
percentile the share of the earlier days whose IV was lower (ties count half).
docs/history.md, "IV rank". Nothing here reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from optbus.atm_iv import INDEX_OPTIONS, AtmIv, atm_iv_of_expiry
from optbus.bhavcopy import BhavcopyRow
from optbus.features import iv_percentile
from optbus.market import MarketFacts

IV_RANK_DAYS = 252
"""Trading days in the window: a year of sessions."""


@dataclass(frozen=True, slots=True)
class IvRank:
    """Today's ATM IV against the trailing window of daily ATM IVs (today included)."""

    current: float
    rank: float
    percentile: float
    days: int


def daily_atm_iv(rows: Iterable[BhavcopyRow], facts: MarketFacts) -> AtmIv | None:
    """The ATM IV of one index on one day from that day's bhavcopy rows: that of its nearest
    expiry after the day with an option settled (None when that expiry has no call and put
    settled at one strike, or no such expiry is listed)."""
    options = [r for r in rows if r.instrument_type == INDEX_OPTIONS and r.strike is not None]
    if not options:
        return None
    day = options[0].trade_date
    later = [r.expiry for r in options if r.expiry > day and r.settlement_price > 0]
    if not later:
        return None
    return atm_iv_of_expiry(options, min(later), facts)


def iv_rank(daily_ivs: Sequence[float], days: int = IV_RANK_DAYS) -> IvRank | None:
    """Rank and percentile of the last of ``daily_ivs`` (oldest first) over the last ``days``
    of them; None with no IV at all."""
    window = list(daily_ivs[-days:])
    if not window:
        return None
    current, earlier = window[-1], window[:-1]
    low, high = min(window), max(window)
    rank = (current - low) / (high - low) if high > low else 0.5
    return IvRank(
        current=current,
        rank=rank,
        percentile=iv_percentile(current, earlier),
        days=len(window),
    )
