"""Implied volatility for Black-76 and Black-Scholes-Merton, vectorised and never raising.

Every option gets an implied volatility or NaN with a reason (IvStatus): a bad option never
spoils the rest of its chain. The solver is Jaeckel's "Let's Be Rational" (see _lbr.py),
compiled with numba; the first call in a fresh environment compiles it (cached on disk).
"""

from __future__ import annotations

import numpy as np

from optbus.pricing._arrays import ArrayLike, FloatArray, as_float
from optbus.pricing._iv_kernel import implied_vol_loop
from optbus.pricing._types import IvResult

TICK = 0.05  # NSE option price tick, in rupees: less time value than this carries no vol


def implied_vol_black76(
    is_call: ArrayLike,
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    *,
    min_time_value: float = TICK,
) -> IvResult:
    """Black-76 implied volatility of option prices on a forward; arguments broadcast.

    Status per option (IvStatus): invalid_input for a non-positive or NaN price, forward,
    strike or expiry (or a NaN rate); below_intrinsic when the price is below the discounted
    intrinsic value; above_upper_bound at or above the discounted forward (calls) or strike
    (puts); no_time_value when price minus intrinsic is below ``min_time_value`` (one 0.05
    tick by default; pass 0.0 to invert any positive time value).
    """
    arrays = np.broadcast_arrays(
        np.asarray(is_call, dtype=np.bool_),
        *(as_float(a) for a in (price, forward, strike, expiry_years, rate)),
    )
    shape = arrays[0].shape
    call, p, f, k, t, r = (np.ascontiguousarray(a).reshape(-1) for a in arrays)
    iv = np.empty(p.shape[0], dtype=np.float64)
    status = np.empty(p.shape[0], dtype=np.int8)
    implied_vol_loop(call, p, f, k, t, r, float(min_time_value), iv, status)
    return IvResult(iv=iv.reshape(shape), status=status.reshape(shape))


def implied_vol_bsm(
    is_call: ArrayLike,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike,
    *,
    min_time_value: float = TICK,
) -> IvResult:
    """Black-Scholes-Merton implied volatility of option prices on a spot; arguments broadcast.

    Solved as Black-76 on the forward F = S exp((r - q) T); the statuses are those of
    implied_vol_black76 (a NaN dividend yield is invalid_input).
    """
    s, t, r, q = (as_float(a) for a in (spot, expiry_years, rate, dividend_yield))
    with np.errstate(over="ignore", invalid="ignore"):
        forward: FloatArray = s * np.exp((r - q) * t)
    return implied_vol_black76(is_call, price, forward, strike, t, r, min_time_value=min_time_value)
