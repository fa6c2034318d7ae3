"""The implied-volatility surface: a level from expected variance, a smile by moneyness.

The at-the-money level for a tenor is the variance the spot process is expected to realise
until expiry (its mean reversion pulls the short end towards the current variance and the
long end towards the long-run level), blended with recent realised variance and scaled by a
variance risk premium. The smile is a function of *standardised* moneyness
y = ln(K/F) / (ATM vol * sqrt(tenor)), so it travels with the forward (sticky delta) and is
steeper in log-strike for short tenors, as index smiles are. Tenors here are variance time in
trading years (see ``spot``); quoted volatilities are converted to calendar time at the end.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import NDArray

from optbus_market_data.simulator.config import SpotModel, SurfaceModel
from optbus_market_data.simulator.spot import TRADING_DAYS_PER_YEAR

FloatArray = NDArray[np.float64]

_MIN_TENOR = 1e-9


def effective_variance(
    surface: SurfaceModel, variance: FloatArray, realised: FloatArray
) -> FloatArray:
    """The variance the market prices off: instantaneous blended with realised."""
    w = surface.realised_weight
    return (1.0 - w) * variance + w * realised


def expected_average_variance(
    model: SpotModel, variance: FloatArray, tenor: FloatArray
) -> FloatArray:
    """Mean variance over the next ``tenor`` under the model's mean reversion."""
    kappa_t = model.mean_reversion * np.maximum(tenor, _MIN_TENOR)
    decay = np.where(kappa_t > 1e-8, -np.expm1(-kappa_t) / kappa_t, 1.0)
    theta = model.long_run_vol**2
    return theta + (variance - theta) * decay


def atm_vol(
    surface: SurfaceModel, model: SpotModel, variance: FloatArray, tenor: FloatArray
) -> FloatArray:
    """At-the-money implied volatility (trading time) for a variance time to expiry."""
    average = expected_average_variance(model, variance, tenor)
    return surface.variance_risk_premium * np.sqrt(average)


def smile_ratio(surface: SurfaceModel, y: FloatArray, tenor: FloatArray) -> FloatArray:
    """Implied vol over ATM vol at standardised moneyness ``y``: skewed, convex, capped wings.

    The quadratic in y has no real root when skew**2 < 4 * smile, so the ratio stays positive;
    tanh saturation keeps far wings from growing without bound.
    """
    cap = surface.wing_saturation
    ys = cap * np.tanh(y / cap)
    days = tenor * TRADING_DAYS_PER_YEAR
    boost = surface.short_tenor_smile_boost * np.exp(-days / surface.short_tenor_days)
    smile = surface.smile * (1.0 + boost)
    return 1.0 + surface.skew * ys + smile * ys * ys


def total_variance(
    surface: SurfaceModel,
    model: SpotModel,
    variance: FloatArray,
    tenor: FloatArray,
    log_moneyness: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Total implied variance per option and its standardised moneyness.

    ``variance`` and ``tenor`` are per step (shape (B,)), ``log_moneyness`` ln(K/F) per step
    and option (shape (B, N)); the results have shape (B, N).
    """
    tenor = np.maximum(tenor, _MIN_TENOR)
    atm = atm_vol(surface, model, variance, tenor)[:, None]
    sqrt_tenor = np.sqrt(tenor)[:, None]
    y = log_moneyness / (atm * sqrt_tenor)
    vol = atm * smile_ratio(surface, y, tenor[:, None])
    return vol * vol * tenor[:, None], y


def calendar_vol(total: FloatArray, calendar_years: FloatArray) -> FloatArray:
    """The implied volatility quoted on calendar time (ACT/365) for a total variance."""
    return np.sqrt(total / np.maximum(calendar_years, _MIN_TENOR))


@functools.cache
def _variance_swap_factor(skew: float, smile: float, cap: float) -> float:
    nodes, weights = hermegauss(40)
    ys = cap * np.tanh(nodes / cap)
    ratio = 1.0 + skew * ys + smile * ys * ys
    return float(np.sqrt(np.sum(weights * ratio * ratio) / np.sum(weights)))


def volatility_index(
    surface: SurfaceModel,
    model: SpotModel,
    variance: FloatArray,
    tenor: FloatArray,
    calendar_years: float,
) -> FloatArray:
    """A VIX-style index (points) for a ``calendar_years`` horizon, ``tenor`` in variance time.

    The CBOE/NSE formula is a variance swap rate: roughly ATM variance lifted by the smile.
    Here that is ATM variance times the smile's mean square over a normal spread of strikes.
    """
    atm = atm_vol(surface, model, variance, tenor)
    factor = _variance_swap_factor(surface.skew, surface.smile, surface.wing_saturation)
    total = (atm * factor) ** 2 * tenor
    return 100.0 * calendar_vol(total, np.asarray(calendar_years))
