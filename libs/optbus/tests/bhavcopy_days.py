"""Bhavcopy rows of index options settled at Black-76 prices of known volatilities."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from optbus.bhavcopy import BhavcopyRow, OptionType
from optbus.market import MarketFacts, load_market_facts
from optbus.pricing import black76_price, time_to_expiry_years
from optbus.rates import risk_free_rate

FACTS: MarketFacts = load_market_facts()
TODAY = date(2026, 6, 1)
SPOT = 26_010.0
STRIKES = (25_950.0, 26_000.0, 26_050.0)


def _row(
    day: date,
    expiry: date,
    strike: float | None,
    kind: OptionType | None,
    price: float,
    spot: float,
) -> BhavcopyRow:
    # Unique per day across expiries and strikes, as NSE's contract ids are.
    contract = (expiry - day).days * 10_000_000 + int(strike or 0) * 10 + (kind == "CE")
    return BhavcopyRow(
        trade_date=day, instrument_id=contract, instrument_type="IDF" if kind is None else "IDO",
        underlying="NIFTY", expiry=expiry, strike=strike, option_type=kind, open=None, high=None,
        low=None, close=price, last=price, previous_close=None, underlying_price=spot,
        settlement_price=price, open_interest=1_000, change_in_open_interest=0,
        traded_volume=100, turnover=0.0, trades=10, lot_size=65,
    )  # fmt: skip


def forward_of(day: date, expiry: date, spot: float = SPOT) -> float:
    """The forward the rows of ``expiry`` are priced on: the spot grown at the day's rate."""
    years = time_to_expiry_years(FACTS.listed_close_ns(day), FACTS.listed_close_ns(expiry))
    return spot * math.exp(risk_free_rate(day).per_year * years)


def expiry_rows(
    day: date, expiry: date, vol: float, spot: float = SPOT, strikes: Sequence[float] = STRIKES
) -> list[BhavcopyRow]:
    """A call and a put at each strike of ``expiry``, settled at Black-76 prices of ``vol``."""
    years = time_to_expiry_years(FACTS.listed_close_ns(day), FACTS.listed_close_ns(expiry))
    rate = risk_free_rate(day).per_year
    forward = forward_of(day, expiry, spot)
    rows = []
    for strike in strikes:
        for kind in ("CE", "PE"):
            price = float(black76_price(kind == "CE", forward, strike, years, rate, vol))
            rows.append(_row(day, expiry, strike, kind, price, spot))
    return rows


def future_row(day: date, expiry: date, price: float, spot: float = SPOT) -> BhavcopyRow:
    """The index future of ``expiry`` settled at ``price``."""
    return _row(day, expiry, None, None, price, spot)


def day_rows(day: date, vol: float) -> list[BhavcopyRow]:
    """A day's bhavcopy of the nearest NIFTY expiry after it, settled at Black-76 prices."""
    return expiry_rows(day, FACTS.expiries("NIFTY", FACTS.next_trading_day(day), 1)[0], vol)


def trading_days_to(last: date, count: int) -> list[date]:
    """The `count` trading days up to and including `last`, oldest first."""
    days = [last]
    while len(days) < count:
        days.append(FACTS.previous_trading_day(days[-1]))
    return days[::-1]


UDIFF_HEADER = (
    "TradDt,BizDt,Sgmt,Src,FinInstrmTp,FinInstrmId,ISIN,TckrSymb,SctySrs,XpryDt,"
    "FininstrmActlXpryDt,StrkPric,OptnTp,FinInstrmNm,OpnPric,HghPric,LwPric,ClsPric,LastPric,"
    "PrvsClsgPric,UndrlygPric,SttlmPric,OpnIntrst,ChngInOpnIntrst,TtlTradgVol,TtlTrfVal,"
    "TtlNbOfTxsExctd,SsnId,NewBrdLotQty,Rmks,Rsvd1,Rsvd2,Rsvd3,Rsvd4"
)
"""The header of NSE's UDiFF F&O bhavcopy, as tests/data's sample has it."""


def udiff_csv(rows: Sequence[BhavcopyRow]) -> str:
    """The rows as NSE publishes them: a UDiFF CSV with prices to the paisa."""

    def price(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}"

    lines = [UDIFF_HEADER]
    for r in rows:
        day, expiry = r.trade_date.isoformat(), r.expiry.isoformat()
        fields = [
            day, day, "FO", "NSE", r.instrument_type, str(r.instrument_id), "", r.underlying, "",
            expiry, expiry, price(r.strike), r.option_type or "",
            f"{r.underlying}{expiry}{r.strike or 'FUT'}{r.option_type or ''}",
            *map(price, (r.open, r.high, r.low, r.close, r.last, r.previous_close)),
            price(r.underlying_price), price(r.settlement_price), str(r.open_interest),
            str(r.change_in_open_interest), str(r.traded_volume), price(r.turnover),
            str(r.trades), "F1", str(r.lot_size), "", "", "", "", "",
        ]  # fmt: skip
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"
