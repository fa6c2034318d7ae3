"""IV rank and IV percentile over 252 trading days, from NSE's end-of-day bhavcopy.

One ATM implied volatility per day: from the day's bhavcopy rows of an index, the nearest
expiry after that day, the strike nearest the underlying's price with a settlement price for
both the call and the put; the forward from put-call parity on those two, and the mean of the
two Black-76 implied volatilities at the day's close, with the dated risk-free rate. Over the
last 252 such days: the rank is where today's IV sits between the window's low and high (0 at
the low, 1 at the high), the percentile the share of the earlier days whose IV was lower (ties
count half). docs/history.md, "IV rank". Nothing here reads the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from optbus.bhavcopy import BhavcopyRow
from optbus.features import iv_percentile
from optbus.market import MarketFacts
from optbus.pricing import implied_vol_black76, time_to_expiry_years
from optbus.rates import risk_free_rate

IV_RANK_DAYS = 252
"""Trading days in the window: a year of sessions."""

_INDEX_OPTIONS = "IDO"


@dataclass(frozen=True, slots=True)
class DailyAtmIv:
    """One day's ATM implied volatility of an index, and the contract it was read from."""

    day: date
    expiry: date
    strike: float
    iv: float


@dataclass(frozen=True, slots=True)
class IvRank:
    """Today's ATM IV against the trailing window of daily ATM IVs (today included)."""

    current: float
    rank: float
    percentile: float
    days: int


def daily_atm_iv(rows: Iterable[BhavcopyRow], facts: MarketFacts) -> DailyAtmIv | None:
    """The ATM IV of one index on one day from that day's bhavcopy rows (None when the rows
    hold no expiry after the day with a call and a put settled at one strike)."""
    options = [r for r in rows if r.instrument_type == _INDEX_OPTIONS and r.strike is not None]
    if not options:
        return None
    day = options[0].trade_date
    later = [r for r in options if r.expiry > day and r.settlement_price > 0]
    if not later:
        return None
    expiry = min(r.expiry for r in later)
    settled: dict[float, dict[str, BhavcopyRow]] = {}
    for row in later:
        if row.expiry == expiry and row.strike is not None and row.option_type is not None:
            settled.setdefault(row.strike, {})[row.option_type] = row
    pairs = {strike: legs for strike, legs in settled.items() if len(legs) == 2}
    if not pairs:
        return None
    underlying = next(
        (r.underlying_price for r in later if r.underlying_price), float(np.median(list(pairs)))
    )
    strike = min(pairs, key=lambda k: (abs(k - underlying), k))
    call, put = pairs[strike]["CE"].settlement_price, pairs[strike]["PE"].settlement_price
    years = time_to_expiry_years(facts.session_close_ns(day), facts.expiry_close_ns(expiry))
    rate = risk_free_rate(day).per_year
    forward = strike + math.exp(rate * years) * (call - put)
    ivs = implied_vol_black76([True, False], [call, put], forward, strike, years, rate).iv
    if not np.all(np.isfinite(ivs)):
        return None
    return DailyAtmIv(day=day, expiry=expiry, strike=strike, iv=float(np.mean(ivs)))


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
