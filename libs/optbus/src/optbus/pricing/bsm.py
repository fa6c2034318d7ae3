"""Black-Scholes-Merton: European options on a spot with a continuous dividend yield."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from optbus.pricing._arrays import ArrayLike, FloatArray, as_float, as_sign
from optbus.pricing._types import Greeks, to_trader_units
from optbus.pricing.black76 import black76_price, valid_inputs

_INV_SQRT_2PI = 0.3989422804014326779399460599343818684758586311649


def bsm_price(
    is_call: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike,
    vol: ArrayLike,
) -> FloatArray:
    """Price European options on a spot with Black-Scholes-Merton; every argument broadcasts.

    This is Black-76 on the forward F = S exp((r - q) T) with discount exp(-r T).
    """
    s, t, r, q = (as_float(a) for a in (spot, expiry_years, rate, dividend_yield))
    with np.errstate(over="ignore", invalid="ignore"):
        forward = s * np.exp((r - q) * t)
    price = black76_price(is_call, forward, strike, t, r, vol)
    return np.where(np.isfinite(q), price, np.nan)


def bsm_greeks(
    is_call: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike,
    vol: ArrayLike,
    *,
    raw: bool = False,
) -> Greeks:
    """Price and Greeks under Black-Scholes-Merton; arguments broadcast.

    Delta and gamma are with respect to the spot; theta is -dV/dT with spot, rate and yield
    fixed; rho is dV/dr with the spot and yield fixed. Trader units unless ``raw``.
    """
    w = as_sign(is_call)
    s, k, t, r, q, v = (
        as_float(a) for a in (spot, strike, expiry_years, rate, dividend_yield, vol)
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sqrt_t = np.sqrt(t)
        sd = v * sqrt_t
        live = sd > 0.0
        d1 = (np.log(s / k) + (r - q) * t) / sd + 0.5 * sd
        d2 = d1 - sd
        df_r = np.exp(-r * t)
        df_q = np.exp(-q * t)
        # At sd == 0 the probabilities are the indicator of the forward being in the money.
        moneyness_step = 0.5 * (np.sign(w * (s * df_q - k * df_r)) + 1.0)
        n1 = np.where(live, ndtr(w * d1), moneyness_step)
        n2 = np.where(live, ndtr(w * d2), moneyness_step)
        pdf_d1 = np.where(live, _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1), 0.0)
        spot_leg = s * df_q * n1
        strike_leg = k * df_r * n2
        price = w * (spot_leg - strike_leg)
        delta = w * df_q * n1
        gamma = np.where(live, df_q * pdf_d1 / (s * sd), 0.0)
        vega = s * df_q * pdf_d1 * sqrt_t
        decay = np.where(live, s * df_q * pdf_d1 * v / (2.0 * sqrt_t), 0.0)
        theta = -decay - w * r * strike_leg + w * q * spot_leg
        rho = w * t * strike_leg
    valid = valid_inputs(s, k, t, r, v) & np.isfinite(q)
    greeks = Greeks(*(np.where(valid, g, np.nan) for g in (price, delta, gamma, theta, vega, rho)))
    return greeks if raw else to_trader_units(greeks)
