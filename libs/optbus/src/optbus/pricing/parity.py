"""The forward implied by put-call parity, robust to missing and noisy quotes."""

from __future__ import annotations

import math

import numpy as np

from optbus.pricing._arrays import ArrayLike, as_float


def forward_from_parity(
    strikes: ArrayLike,
    call_mid: ArrayLike,
    put_mid: ArrayLike,
    expiry_years: float,
    rate: float,
    *,
    nearest: int = 3,
) -> float:
    """Forward price implied by put-call parity C - P = DF (F - K) across a chain.

    Uses only strikes where both mids are positive and finite, takes the ``nearest`` of them
    with the smallest |C - P| (the most liquid, nearest the money, where a quote error moves
    the estimate least), and returns the median of their K + (C - P) / DF. NaN when no strike
    is usable or the expiry or rate is not a number.
    """
    k, c, p = (as_float(a).reshape(-1) for a in (strikes, call_mid, put_mid))
    df = math.exp(-rate * expiry_years)
    if not (math.isfinite(df) and df > 0.0 and expiry_years >= 0.0):
        return math.nan
    usable = np.isfinite(k) & (k > 0.0) & np.isfinite(c) & (c > 0.0) & np.isfinite(p) & (p > 0.0)
    if not usable.any():
        return math.nan
    spread = c[usable] - p[usable]
    closest = np.argsort(np.abs(spread), kind="stable")[: max(nearest, 1)]
    return float(np.median(k[usable][closest] + spread[closest] / df))
