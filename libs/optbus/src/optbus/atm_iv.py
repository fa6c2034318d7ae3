"""The ATM implied volatility of one expiry from one day's bhavcopy settlement prices.

What IV rank reads for each day's nearest expiry (``optbus.iv_rank``) and the end-of-day term
structure for every listed expiry (``optbus.term_structure``). Of the expiry's index options
settled above zero: the strikes with both a call and a put; the forward, unless the caller has
one (an index future's settlement), from put-call parity at the strike nearest the underlying's
price; the strike nearest that forward (its parity forward again when it is another strike);
and the mean of the call's and the put's Black-76 implied volatilities there, at the day's
close, with the dated risk-free rate. docs/history.md, "IV rank" and "Term structure". Nothing
here reads the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

from optbus.bhavcopy import BhavcopyRow
from optbus.market import MarketFacts
from optbus.pricing import implied_vol_black76, time_to_expiry_years
from optbus.rates import risk_free_rate

INDEX_OPTIONS = "IDO"
"""UDiFF instrument type of index options."""


@dataclass(frozen=True, slots=True)
class AtmIv:
    """One expiry's ATM implied volatility on one day, and what it was read from."""

    day: date
    expiry: date
    strike: float
    forward: float
    years: float
    """From the day's close to the expiry's close, ACT/365."""
    iv: float


def atm_iv_of_expiry(
    rows: Iterable[BhavcopyRow], expiry: date, facts: MarketFacts, *, forward: float | None = None
) -> AtmIv | None:
    """The ATM IV of ``expiry`` from one day's bhavcopy rows (those of other expiries and
    instruments are passed over); ``forward`` is the expiry's forward when the caller knows it.

    None when no call and put of the expiry are settled above zero at one strike, when the
    expiry is the day itself (no time left to read a volatility from), or when their implied
    volatilities do not solve.
    """
    pairs: dict[float, dict[str, float]] = {}
    underlying: float | None = None
    day: date | None = None
    for row in rows:
        if (
            row.instrument_type != INDEX_OPTIONS
            or row.expiry != expiry
            or row.strike is None
            or row.option_type is None
            or row.settlement_price <= 0
        ):
            continue
        day = row.trade_date
        underlying = underlying or row.underlying_price
        pairs.setdefault(row.strike, {})[row.option_type] = row.settlement_price
    pairs = {strike: legs for strike, legs in pairs.items() if len(legs) == 2}
    if day is None or not pairs or expiry <= day:
        return None
    years = time_to_expiry_years(facts.listed_close_ns(day), facts.listed_close_ns(expiry))
    rate = risk_free_rate(day).per_year

    def parity_forward(strike: float) -> float:
        return strike + math.exp(rate * years) * (pairs[strike]["CE"] - pairs[strike]["PE"])

    def nearest(level: float) -> float:
        return min(pairs, key=lambda k: (abs(k - level), k))

    if forward is None:
        # Near the underlying first: a long expiry's forward is far from the spot, and parity
        # holds at any strike, so one step finds the strike nearest the forward.
        strike = nearest(underlying or float(np.median(list(pairs))))
        forward = parity_forward(strike)
        if (nearer := nearest(forward)) != strike:
            strike, forward = nearer, parity_forward(nearer)
    else:
        strike = nearest(forward)
    call, put = pairs[strike]["CE"], pairs[strike]["PE"]
    ivs = implied_vol_black76([True, False], [call, put], forward, strike, years, rate).iv
    if not np.all(np.isfinite(ivs)):
        return None
    return AtmIv(day, expiry, strike, forward, years, float(np.mean(ivs)))
