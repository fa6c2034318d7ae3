"""Black-76: European options on a forward (the default model for NSE index options)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from optbus.pricing._arrays import ArrayLike, BoolArray, FloatArray, as_float, as_sign
from optbus.pricing._types import Greeks, to_trader_units

_INV_SQRT_2PI = 0.3989422804014326779399460599343818684758586311649


def valid_inputs(
    f: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, v: FloatArray
) -> BoolArray:
    """Mask of inputs the models are defined for (NaN compares false, so NaN is invalid)."""
    return (f > 0.0) & (k > 0.0) & (t >= 0.0) & (v >= 0.0) & np.isfinite(r)


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
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sd = v * np.sqrt(t)
        d1 = np.log(f / k) / sd + 0.5 * sd
        d2 = d1 - sd
        undiscounted = w * (f * ndtr(w * d1) - k * ndtr(w * d2))
        # sd == 0 makes d1 = +-inf or NaN (at the money); the limit is the intrinsic value.
        intrinsic = np.maximum(w * (f - k), 0.0)
        undiscounted = np.where(sd > 0.0, undiscounted, intrinsic)
        price = np.exp(-r * t) * undiscounted
    return np.where(valid_inputs(f, k, t, r, v), price, np.nan)


def black76_greeks(
    is_call: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
    *,
    raw: bool = False,
) -> Greeks:
    """Price and Greeks of European options on a forward under Black-76; arguments broadcast.

    Delta and gamma are with respect to the forward; theta is -dV/dT and rho is dV/dr, both
    with the forward held fixed (so rho = -T V). Trader units unless ``raw`` (see Greeks).
    At zero time or zero vol the limits are used: delta is the discounted in-the-money
    indicator (half at the money), gamma and vega are zero.
    """
    w = as_sign(is_call)
    f, k, t, r, v = (as_float(a) for a in (forward, strike, expiry_years, rate, vol))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sqrt_t = np.sqrt(t)
        sd = v * sqrt_t
        live = sd > 0.0
        d1 = np.log(f / k) / sd + 0.5 * sd
        d2 = d1 - sd
        df = np.exp(-r * t)
        # At sd == 0 the probabilities are the in-the-money indicator, 1/2 exactly at the money.
        moneyness_step = 0.5 * (np.sign(w * (f - k)) + 1.0)
        n1 = np.where(live, ndtr(w * d1), moneyness_step)
        n2 = np.where(live, ndtr(w * d2), moneyness_step)
        pdf_d1 = np.where(live, _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1), 0.0)
        price = df * w * (f * n1 - k * n2)
        delta = df * w * n1
        gamma = np.where(live, df * pdf_d1 / (f * sd), 0.0)
        vega = df * f * pdf_d1 * sqrt_t
        theta = r * price - np.where(live, df * f * pdf_d1 * v / (2.0 * sqrt_t), 0.0)
        rho = -t * price
    valid = valid_inputs(f, k, t, r, v)
    greeks = Greeks(*(np.where(valid, g, np.nan) for g in (price, delta, gamma, theta, vega, rho)))
    return greeks if raw else to_trader_units(greeks)
