"""Chain aggregates the strategies and dashboards read: ATM IV, skew, PCR and max pain."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optbus.pricing._arrays import ArrayLike, BoolArray, FloatArray, as_float


@dataclass(frozen=True, slots=True)
class Aggregates:
    """Summary of one option chain (one expiry); NaN where it cannot be computed."""

    atm_iv: float
    risk_reversal_25d: float
    butterfly_25d: float
    pcr_open_interest: float
    pcr_volume: float
    max_pain: float


def _interp_inside(x0: float, xs: FloatArray, ys: FloatArray) -> float:
    """Linear interpolation of the finite points (xs, ys) at x0; NaN outside their range."""
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if xs.size == 0 or not (xs.min() <= x0 <= xs.max()):
        return math.nan
    order = np.argsort(xs, kind="stable")
    return float(np.interp(x0, xs[order], ys[order]))


def atm_iv(strikes: FloatArray, forward: float, call_iv: FloatArray, put_iv: FloatArray) -> float:
    """IV at the forward, linear in strike across the out-of-the-money smile.

    Below the forward the put's IV is used, above it the call's (out-of-the-money options
    are the liquid ones, and their IVs carry no intrinsic-value noise); a strike exactly at
    the forward takes the mean of whichever of the two exist.
    """
    both = np.isfinite(call_iv) & np.isfinite(put_iv)
    either = np.where(
        both, 0.5 * (call_iv + put_iv), np.where(np.isfinite(call_iv), call_iv, put_iv)
    )
    otm_iv = np.where(strikes < forward, put_iv, call_iv)
    otm_iv = np.where(strikes == forward, either, otm_iv)
    return _interp_inside(forward, strikes, otm_iv)


def _iv_at_delta(target: float, delta: FloatArray, iv: FloatArray, otm: BoolArray) -> float:
    """IV of the out-of-the-money options of one side interpolated in delta at target."""
    return _interp_inside(target, delta[otm], iv[otm])


def max_pain(strikes: FloatArray, call_oi: FloatArray, put_oi: FloatArray) -> float:
    """Settlement strike that minimises the total intrinsic payout to option holders.

    Payout at settlement S: sum over strikes K of call_oi(K) max(S - K, 0) + put_oi(K)
    max(K - S, 0); missing open interest counts as zero; ties go to the lowest strike.
    """
    keep = np.isfinite(strikes)
    k = strikes[keep]
    c_oi, p_oi = np.nan_to_num(call_oi[keep]), np.nan_to_num(put_oi[keep])
    if k.size == 0 or c_oi.sum() + p_oi.sum() <= 0.0:
        return math.nan
    settle = k[:, None]
    payout = (c_oi * np.maximum(settle - k, 0.0) + p_oi * np.maximum(k - settle, 0.0)).sum(axis=1)
    lowest_first = np.lexsort((k, payout))
    return float(k[lowest_first[0]])


def _ratio(numerator: FloatArray, denominator: FloatArray) -> float:
    """Sum ratio ignoring missing values; NaN when the denominator sums to zero."""
    total = float(np.nansum(denominator))
    return float(np.nansum(numerator)) / total if total > 0.0 else math.nan


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

    Deltas are the model deltas as returned by black76_greeks (puts negative); the 25-delta
    IVs interpolate linearly in delta among the out-of-the-money options of each side (calls
    at or above the forward, puts at or below), with no extrapolation. Risk reversal is
    iv(25-delta call) - iv(25-delta put); butterfly is their mean minus the ATM IV.
    """
    columns = (strikes, call_iv, put_iv, call_delta, put_delta, call_oi, put_oi)
    k, c_iv, p_iv, c_delta, p_delta, c_oi, p_oi, c_vol, p_vol = (
        as_float(a).reshape(-1) for a in (*columns, call_volume, put_volume)
    )
    atm = atm_iv(k, forward, c_iv, p_iv) if math.isfinite(forward) else math.nan
    iv25c = _iv_at_delta(0.25, c_delta, c_iv, k >= forward)
    iv25p = _iv_at_delta(-0.25, p_delta, p_iv, k <= forward)
    return Aggregates(
        atm_iv=atm,
        risk_reversal_25d=iv25c - iv25p,
        butterfly_25d=0.5 * (iv25c + iv25p) - atm,
        pcr_open_interest=_ratio(p_oi, c_oi),
        pcr_volume=_ratio(p_vol, c_vol),
        max_pain=max_pain(k, c_oi, p_oi),
    )
