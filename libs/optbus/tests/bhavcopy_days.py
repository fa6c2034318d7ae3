"""Bhavcopy rows of index options settled at Black-76 prices of known volatilities."""

from __future__ import annotations

import math
from datetime import date

from optbus.bhavcopy import BhavcopyRow, OptionType
from optbus.market import MarketFacts, load_market_facts
from optbus.pricing import black76_price, time_to_expiry_years
from optbus.rates import risk_free_rate

FACTS: MarketFacts = load_market_facts()
TODAY = date(2026, 6, 1)
SPOT = 26_010.0
STRIKES = (25_950.0, 26_000.0, 26_050.0)


def _option_row(
    day: date, expiry: date, strike: float, kind: OptionType, price: float
) -> BhavcopyRow:
    return BhavcopyRow(
        trade_date=day, instrument_id=int(strike) * 10 + (kind == "CE"), instrument_type="IDO",
        underlying="NIFTY", expiry=expiry, strike=strike, option_type=kind, open=None, high=None,
        low=None, close=price, last=price, previous_close=None, underlying_price=SPOT,
        settlement_price=price, open_interest=1_000, change_in_open_interest=0,
        traded_volume=100, turnover=0.0, trades=10, lot_size=65,
    )  # fmt: skip


def day_rows(day: date, vol: float) -> list[BhavcopyRow]:
    """A day's bhavcopy of the nearest NIFTY expiry after it, settled at Black-76 prices."""
    expiry = FACTS.expiries("NIFTY", FACTS.next_trading_day(day), 1)[0]
    years = time_to_expiry_years(FACTS.session_close_ns(day), FACTS.expiry_close_ns(expiry))
    rate = risk_free_rate(day).per_year
    forward = SPOT * math.exp(rate * years)
    rows = []
    for strike in STRIKES:
        for kind in ("CE", "PE"):
            price = float(black76_price(kind == "CE", forward, strike, years, rate, vol))
            rows.append(_option_row(day, expiry, strike, kind, price))
    return rows


def trading_days_to(last: date, count: int) -> list[date]:
    """The `count` trading days up to and including `last`, oldest first."""
    days = [last]
    while len(days) < count:
        days.append(FACTS.previous_trading_day(days[-1]))
    return days[::-1]
