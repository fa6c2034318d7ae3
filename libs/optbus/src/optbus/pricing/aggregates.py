"""Chain aggregates the strategies and dashboards read: ATM IV, skew, PCR and max pain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optbus.pricing._arrays import ArrayLike, as_float
from optbus.pricing._chain_kernel import chain_aggregates_into


@dataclass(frozen=True, slots=True)
class Aggregates:
    """Summary of one option chain (one expiry); NaN where it cannot be computed."""

    atm_iv: float
    risk_reversal_25d: float
    butterfly_25d: float
    pcr_open_interest: float
    pcr_volume: float
    max_pain: float

    @classmethod
    def of(cls, values: ArrayLike) -> Aggregates:
        """The aggregates from their six values in field order (as the chain kernels write)."""
        atm, rr, fly, pcr_oi, pcr_volume, pain = as_float(values).tolist()
        return cls(atm, rr, fly, pcr_oi, pcr_volume, pain)


def chain_aggregates(
    strikes: ArrayLike,
    forward: float,
    call_iv: ArrayLike,
    put_iv: ArrayLike,
    call_delta: ArrayLike,
    put_delta: ArrayLike,
    call_oi: ArrayLike,
    put_oi: ArrayLike,
    call_volume: ArrayLike,
    put_volume: ArrayLike,
) -> Aggregates:
    """Aggregates of a chain given per strike (calls and puts aligned on the strikes).

    ATM IV is the IV at the forward, linear in strike across the out-of-the-money smile: below
    the forward the put's IV, above it the call's (out-of-the-money options are the liquid
    ones, and their IVs carry no intrinsic-value noise); a strike exactly at the forward takes
    the mean of whichever of the two exist. Deltas are the model deltas as returned by
    black76_greeks (puts negative); the 25-delta IVs interpolate linearly in delta among the
    out-of-the-money options of each side (calls at or above the forward, puts at or below),
    with no extrapolation. Risk reversal is iv(25-delta call) - iv(25-delta put); butterfly is
    their mean minus the ATM IV. PCRs are sums of puts over sums of calls ignoring missing
    values (NaN when the calls sum to zero). Max pain is the settlement strike that minimises
    the total intrinsic payout to holders, sum over K of call_oi(K) max(S - K, 0) + put_oi(K)
    max(K - S, 0), missing open interest counting as zero, ties going to the lowest strike.
    Length-1 columns broadcast over the strikes.
    """
    columns = (strikes, call_iv, put_iv, call_delta, put_delta, call_oi, put_oi)
    flat = [as_float(a).reshape(-1) for a in (*columns, call_volume, put_volume)]
    if len({a.shape[0] for a in flat}) > 1:
        flat = list(np.broadcast_arrays(*flat))
    k, c_iv, p_iv, c_delta, p_delta, c_oi, p_oi, c_vol, p_vol = map(np.ascontiguousarray, flat)
    out = np.empty(6)
    chain_aggregates_into(
        k, float(forward), c_iv, p_iv, c_delta, p_delta, c_oi, p_oi, c_vol, p_vol, out
    )
    return Aggregates.of(out)
