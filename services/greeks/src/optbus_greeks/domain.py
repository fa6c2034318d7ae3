"""Pure enrichment of a chain snapshot: forward, implied volatilities, Greeks and aggregates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from optbus.clock import Clock
from optbus.events import ChainAggregates, ChainGreeks, ChainSide, OptionChainSnapshot, SideGreeks
from optbus.ids import derived_event_id
from optbus.pricing import (
    IV_STATUS_NAMES,
    Greeks,
    IvResult,
    chain_aggregates,
    forward_from_parity,
    implied_greeks_black76,
    time_to_expiry_years,
)

FloatArray = NDArray[np.float64]

NO_QUOTE = "no_quote"
"""The ``iv_status`` of an option without a two-sided quote: there is no price to invert."""


@dataclass(frozen=True)
class GreeksConfig:
    """How the greeks service prices: the risk-free rate and where expiries close."""

    rate: float
    expiry_close_ns: Callable[[date], int]


def mid_prices(side: ChainSide) -> FloatArray:
    """Mid of bid and ask where both are quoted, NaN where either side is empty."""
    bid = np.asarray(side.bid, dtype=np.float64)
    ask = np.asarray(side.ask, dtype=np.float64)
    quoted = (bid > 0) & (ask > 0) & (ask >= bid)
    return np.where(quoted, (bid + ask) / 2, np.nan)


def _optional(values: FloatArray) -> list[float | None]:
    """Python floats, with None where the value is NaN (no value exists)."""
    boxed = values.astype(object)
    boxed[np.isnan(values)] = None
    result: list[float | None] = boxed.tolist()
    return result


def _side_greeks(solved: IvResult, greeks: Greeks, part: slice, mids: FloatArray) -> SideGreeks:
    quoted = np.isfinite(mids).tolist()
    return SideGreeks(
        iv=_optional(solved.iv[part]),
        delta=_optional(greeks.delta[part]),
        gamma=_optional(greeks.gamma[part]),
        theta=_optional(greeks.theta[part]),
        vega=_optional(greeks.vega[part]),
        rho=_optional(greeks.rho[part]),
        iv_status=[
            IV_STATUS_NAMES[code] if has_quote else NO_QUOTE
            for code, has_quote in zip(solved.status[part].tolist(), quoted, strict=True)
        ],
    )


def _both_sides(
    call_mid: FloatArray,
    put_mid: FloatArray,
    forward: float,
    strikes: FloatArray,
    t: float,
    rate: float,
) -> tuple[SideGreeks, SideGreeks, FloatArray, FloatArray]:
    """Both sides of the chain in one compiled pass (calls first, then puts)."""
    n = len(strikes)
    solved, greeks = implied_greeks_black76(
        np.arange(2 * n) < n, np.concatenate([call_mid, put_mid]), forward,
        np.tile(strikes, 2), t, rate,
    )  # fmt: skip
    calls, puts = slice(0, n), slice(n, 2 * n)
    return (
        _side_greeks(solved, greeks, calls, call_mid),
        _side_greeks(solved, greeks, puts, put_mid),
        greeks.delta[calls],
        greeks.delta[puts],
    )


def enrich_chain(snapshot: OptionChainSnapshot, config: GreeksConfig, clock: Clock) -> ChainGreeks:
    """Price a whole chain with Black-76 on the put-call-parity forward.

    The forward falls back to the futures price when parity cannot be read off the chain
    (no strike with both a call and a put quoted).
    """
    strikes = np.asarray(snapshot.strikes, dtype=np.float64)
    t = float(time_to_expiry_years(snapshot.ts_event, config.expiry_close_ns(snapshot.expiry)))
    call_mid, put_mid = mid_prices(snapshot.calls), mid_prices(snapshot.puts)
    forward = float(forward_from_parity(strikes, call_mid, put_mid, t, config.rate))
    if not np.isfinite(forward):
        forward = snapshot.futures
    calls, puts, call_delta, put_delta = _both_sides(
        call_mid, put_mid, forward, strikes, t, config.rate
    )
    aggregates = chain_aggregates(
        strikes,
        forward,
        np.asarray(calls.iv, dtype=np.float64),
        np.asarray(puts.iv, dtype=np.float64),
        call_delta,
        put_delta,
        np.asarray(snapshot.calls.open_interest, dtype=np.float64),
        np.asarray(snapshot.puts.open_interest, dtype=np.float64),
        np.asarray(snapshot.calls.volume, dtype=np.float64),
        np.asarray(snapshot.puts.volume, dtype=np.float64),
    )
    return ChainGreeks(
        event_id=derived_event_id(snapshot.event_id, "greeks"),
        ts_event=snapshot.ts_event,
        ts_init=clock.now_ns(),
        source_event_id=snapshot.event_id,
        snapshot=snapshot,
        model="black76",
        forward=forward,
        rate=config.rate,
        time_to_expiry=t,
        calls=calls,
        puts=puts,
        aggregates=ChainAggregates(
            atm_iv=_finite_or_none(aggregates.atm_iv),
            risk_reversal_25d=_finite_or_none(aggregates.risk_reversal_25d),
            butterfly_25d=_finite_or_none(aggregates.butterfly_25d),
            pcr_open_interest=_finite_or_none(aggregates.pcr_open_interest),
            pcr_volume=_finite_or_none(aggregates.pcr_volume),
            max_pain=_finite_or_none(aggregates.max_pain),
        ),
    )


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
