"""Pure enrichment of a chain snapshot: forward, implied volatilities, Greeks and aggregates."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

from optbus.clock import Clock
from optbus.events import ChainAggregates, ChainGreeks, OptionChainSnapshot, SideGreeks
from optbus.ids import derived_event_id
from optbus.pricing import IV_STATUS_NAMES, PricedChain, price_chain, time_to_expiry_years

FloatArray = NDArray[np.float64]

NO_QUOTE = "no_quote"
"""The ``iv_status`` of an option without a two-sided quote: there is no price to invert."""

STALE = "stale"
"""The ``iv_status`` of an option whose quote a broker feed marked stale: the snapshot blanked its
touch (so it is priced as unquoted), and this says why it has no iv."""

_STATUS_NAMES = np.array([*IV_STATUS_NAMES, NO_QUOTE, STALE], dtype=object)
_NO_QUOTE_CODE = len(IV_STATUS_NAMES)
_STALE_CODE = _NO_QUOTE_CODE + 1


@dataclass(frozen=True)
class GreeksConfig:
    """How the greeks service prices: the risk-free rate at an event time (epoch ns; the dated
    rate of ``optbus.rates`` in the services) and where expiries close."""

    rate_at: Callable[[int], float]
    expiry_close_ns: Callable[[date], int]
    _closes: dict[date, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def close_ns(self, expiry: date) -> int:
        """``expiry_close_ns(expiry)``, looked up once per expiry (every chain asks it)."""
        close = self._closes.get(expiry)
        if close is None:
            close = self._closes[expiry] = self.expiry_close_ns(expiry)
        return close


def _chain_columns(snapshot: OptionChainSnapshot) -> FloatArray:
    """The snapshot as the rows of ``optbus.pricing.CHAIN_COLUMNS``."""
    calls, puts = snapshot.calls, snapshot.puts
    return np.array(
        [snapshot.strikes, calls.bid, calls.ask, puts.bid, puts.ask,
         calls.open_interest, puts.open_interest, calls.volume, puts.volume],
        dtype=np.float64,
    ).reshape(9, len(snapshot.strikes))  # fmt: skip


def _status_codes(priced: PricedChain, snapshot: OptionChainSnapshot) -> NDArray[np.int_]:
    """Each option's ``iv_status`` code: the pricer's, no quote, or stale (as the feed marked)."""
    codes = np.where(priced.quoted, priced.status, _NO_QUOTE_CODE)
    calls, puts = snapshot.calls.stale, snapshot.puts.stale
    if calls or puts:  # only a broker feed's snapshots carry marks; most have none
        count = len(snapshot.strikes)
        marks = np.array([calls or [False] * count, puts or [False] * count], dtype=bool)
        codes = np.where(marks, _STALE_CODE, codes)
    return codes


def _side_greeks(
    priced: PricedChain, snapshot: OptionChainSnapshot
) -> tuple[SideGreeks, SideGreeks]:
    """Both sides as event fields: Python floats with None where a value does not exist."""
    boxed = priced.sides.astype(object)
    boxed[np.isnan(priced.sides)] = None
    calls, puts = boxed.tolist()
    codes = _status_codes(priced, snapshot)
    call_status, put_status = _STATUS_NAMES[codes].tolist()
    return (
        SideGreeks(iv=calls[0], delta=calls[1], gamma=calls[2], theta=calls[3], vega=calls[4],
                   rho=calls[5], iv_status=call_status),
        SideGreeks(iv=puts[0], delta=puts[1], gamma=puts[2], theta=puts[3], vega=puts[4],
                   rho=puts[5], iv_status=put_status),
    )  # fmt: skip


def enrich_chain(snapshot: OptionChainSnapshot, config: GreeksConfig, clock: Clock) -> ChainGreeks:
    """Price a whole chain with Black-76 on the put-call-parity forward.

    The forward falls back to the futures price when parity cannot be read off the chain
    (no strike with both a call and a put quoted).
    """
    t = float(time_to_expiry_years(snapshot.ts_event, config.close_ns(snapshot.expiry)))
    rate = config.rate_at(snapshot.ts_event)
    priced = price_chain(_chain_columns(snapshot), snapshot.futures, t, rate)
    calls, puts = _side_greeks(priced, snapshot)
    aggregates = priced.aggregates
    return ChainGreeks(
        event_id=derived_event_id(snapshot.event_id, "greeks"),
        ts_event=snapshot.ts_event,
        ts_init=clock.now_ns(),
        source_event_id=snapshot.event_id,
        snapshot=snapshot,
        model="black76",
        forward=priced.forward,
        rate=rate,
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
    return value if math.isfinite(value) else None
