"""Hand-made recorded chains whose option mids, and so forward returns, are known."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from optbus.events import (
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    OptionChainSnapshot,
    SideGreeks,
    VolatilityIndexTick,
)
from optbus.market import load_market_facts

FACTS = load_market_facts()
DAY = date(2026, 12, 2)
NEXT_DAY = date(2026, 12, 3)
EXPIRY = date(2026, 12, 8)
STRIKES = [26_000.0, 26_100.0]
MINUTE = 60 * 10**9

Price = Callable[[int, float, str], float]
"""The mid of an option (strike, type) at a minute of the session."""


def rising(minute: int, strike: float, option_type: str) -> float:
    """Calls gain a rupee a minute from 100, puts two from 50; the 26,100s cost 10 less."""
    base = 100.0 + minute if option_type == "CE" else 50.0 + 2.0 * minute
    return base - (10.0 if strike == 26_100.0 else 0.0)


def _side(minute: int, option_type: str, price: Price, oi: int) -> ChainSide:
    mids = [price(minute, strike, option_type) for strike in STRIKES]
    return ChainSide(
        bid=[m - 0.5 for m in mids], ask=[m + 0.5 for m in mids], last=mids,
        bid_size=[65, 65], ask_size=[65, 65], volume=[10, 10], open_interest=[oi, oi],
    )  # fmt: skip


def _greeks(minute: int) -> SideGreeks:
    iv = 0.14 + minute / 10_000
    return SideGreeks(iv=[iv, iv], delta=[0.5, 0.4], gamma=[0.001, 0.001], theta=[-5.0, -4.0],
                      vega=[10.0, 9.0], rho=[1.0, 1.0], iv_status=["ok", "ok"])  # fmt: skip


def chain(minute: int, *, day: date = DAY, price: Price = rising, oi: int = 1_000) -> ChainGreeks:
    """The chain at ``minute`` after the session of ``day`` opened."""
    ts = FACTS.session_open_ns(day) + minute * MINUTE
    snapshot = OptionChainSnapshot(
        event_id=f"s{day}{minute}", ts_event=ts, ts_init=ts, underlying="NIFTY", expiry=EXPIRY,
        spot=26_010.0 + minute, futures=26_050.0 + minute, lot_size=65, strikes=STRIKES,
        calls=_side(minute, "CE", price, oi), puts=_side(minute, "PE", price, oi),
    )  # fmt: skip
    return ChainGreeks(
        event_id=f"g{day}{minute}", ts_event=ts, ts_init=ts, source_event_id=snapshot.event_id,
        snapshot=snapshot, model="black76", forward=26_050.0 + minute, rate=0.065,
        time_to_expiry=6.0 / 365, calls=_greeks(minute), puts=_greeks(minute),
        aggregates=ChainAggregates(atm_iv=0.14 + minute / 10_000, risk_reversal_25d=-0.02,
                                   butterfly_25d=0.01, pcr_open_interest=0.9, pcr_volume=1.0,
                                   max_pain=26_000.0),
    )  # fmt: skip


def vix(minute: int, value: float) -> VolatilityIndexTick:
    ts = FACTS.session_open_ns(DAY) + minute * MINUTE
    return VolatilityIndexTick(event_id=f"v{minute}", ts_event=ts, ts_init=ts, index="INDIAVIX",
                               value=value)  # fmt: skip


def session(minutes: range, **kw: object) -> list[ChainGreeks]:
    return [chain(m, **kw) for m in minutes]  # type: ignore[arg-type]
