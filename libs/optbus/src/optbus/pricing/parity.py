"""The forward implied by put-call parity, robust to missing and noisy quotes."""

from __future__ import annotations

import math

import numpy as np

from optbus.pricing._arrays import ArrayLike, as_float
from optbus.pricing._chain_kernel import _PARITY_NEAREST, parity_forward


def parity_discount(expiry_years: float, rate: float) -> float:
    """The discount factor exp(-rate T) parity divides by; NaN when it cannot be used."""
    discount = math.exp(-rate * expiry_years)
    if not (math.isfinite(discount) and discount > 0.0 and expiry_years >= 0.0):
        return math.nan
    return discount


def forward_from_parity(
    strikes: ArrayLike,
    call_mid: ArrayLike,
    put_mid: ArrayLike,
    expiry_years: float,
    rate: float,
    *,
    nearest: int = _PARITY_NEAREST,
) -> float:
    """Forward price implied by put-call parity C - P = DF (F - K) across a chain.

    Uses only strikes where both mids are positive and finite, takes the ``nearest`` of them
    with the smallest |C - P| (the most liquid, nearest the money, where a quote error moves
    the estimate least), and returns the median of their K + (C - P) / DF. NaN when no strike
    is usable or the expiry or rate is not a number.
    """
    discount = parity_discount(expiry_years, rate)
    if math.isnan(discount):
        return math.nan
    k, c, p = (np.ascontiguousarray(as_float(a).reshape(-1)) for a in (strikes, call_mid, put_mid))
    return float(parity_forward(k, c, p, discount, nearest))
