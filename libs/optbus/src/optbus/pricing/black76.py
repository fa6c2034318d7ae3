"""Black-76: European options on a forward (the default model for NSE index options)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from optbus.pricing._arrays import ArrayLike, FloatArray, as_float, as_sign


def black76_price(
    is_call: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
) -> FloatArray:
    """Price European options on a forward with Black-76; every argument broadcasts.

    Price = DF * w * (F N(w d1) - K N(w d2)), DF = exp(-r T), w = +1 call / -1 put.
    At zero volatility or zero time the price is the discounted intrinsic value.
    Non-positive forward or strike, negative time or vol, or NaN input give NaN.
    """
    w = as_sign(is_call)
    f, k, t, r, v = (as_float(a) for a in (forward, strike, expiry_years, rate, vol))
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = v * np.sqrt(t)
        d1 = np.log(f / k) / sd + 0.5 * sd
        d2 = d1 - sd
        undiscounted = w * (f * ndtr(w * d1) - k * ndtr(w * d2))
        # sd == 0 makes d1 = +-inf or NaN (at the money); the limit is the intrinsic value.
        intrinsic = np.maximum(w * (f - k), 0.0)
        undiscounted = np.where(sd > 0.0, undiscounted, intrinsic)
        price = np.exp(-r * t) * undiscounted
    valid = (f > 0.0) & (k > 0.0) & (t >= 0.0) & (v >= 0.0) & np.isfinite(r)
    return np.where(valid, price, np.nan)
