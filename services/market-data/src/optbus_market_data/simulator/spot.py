"""The spot process: correlated index paths with stochastic variance and occasional jumps.

Time is *variance time* measured in trading years: each trading day carries 1/252 of a year,
a share of it over the night before the session (the opening gap) and the rest spread over
the session's steps. A whole session is simulated at once, so that the option chains can be
priced in vectorised blocks afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from optbus_market_data.simulator.config import SpotModel

FloatArray = NDArray[np.float64]

TRADING_DAYS_PER_YEAR = 252.0


@dataclass(frozen=True, slots=True)
class SpotState:
    """Where each index stands between sessions: spot, instantaneous and realised variance."""

    spot: FloatArray
    variance: FloatArray
    realised_variance: FloatArray


@dataclass(frozen=True, slots=True)
class SessionPath:
    """One session's simulated indices, one row per step and one column per index."""

    spot: FloatArray
    variance: FloatArray
    realised_variance: FloatArray
    abs_shock: FloatArray

    @property
    def final_state(self) -> SpotState:
        """The state the next session starts from."""
        return SpotState(
            spot=self.spot[-1].copy(),
            variance=self.variance[-1].copy(),
            realised_variance=self.realised_variance[-1].copy(),
        )


def initial_state(models: tuple[SpotModel, ...]) -> SpotState:
    """The state before the first session, from each model's initial spot and volatility."""
    variance = np.array([m.initial_vol**2 for m in models])
    return SpotState(
        spot=np.array([m.initial_spot for m in models]),
        variance=variance,
        realised_variance=variance.copy(),
    )


def intraday_profile(n_steps: int) -> FloatArray:
    """Diffusion multipliers over a session: busier at the open and before the close.

    Normalised to a mean square of one, so the profile moves variance within the day without
    changing the day's total.
    """
    u = (np.arange(n_steps) + 0.5) / n_steps
    profile = 1.0 + 1.0 * np.exp(-u / 0.05) + 0.5 * np.exp(-(1.0 - u) / 0.05)
    return profile / float(np.sqrt(np.mean(profile**2)))


def simulate_session(
    models: tuple[SpotModel, ...],
    state: SpotState,
    rng: np.random.Generator,
    *,
    n_steps: int,
    overnight_share: float,
    market_correlation: float,
    realised_halflife_days: float,
    variance_scale: float = 1.0,
) -> SessionPath:
    """Simulate the opening gap and every step of one session for all indices at once.

    ``variance_scale`` multiplies the variance the day's returns diffuse with (an event day's
    volatility squared); the variance process itself, and so the next day, is left alone.
    """
    n = len(models)
    step_dt = (1.0 - overnight_share) / TRADING_DAYS_PER_YEAR / n_steps
    dts = np.full(n_steps, step_dt)
    dts[0] = overnight_share / TRADING_DAYS_PER_YEAR  # the first step carries the night
    profile = intraday_profile(n_steps)
    profile[0] = 1.0
    z_spot = _correlated_normals(rng, n_steps, n, market_correlation)
    z_var = rng.standard_normal((n_steps, n))
    jumps = _jumps(models, rng, dts)
    variance = _variance_paths(models, state.variance, dts, z_spot, z_var, jumps)
    # The step's return uses the variance at its start (Euler), then the jump.
    start_var = np.vstack([state.variance[None, :], variance[:-1]]) * variance_scale
    diffusion = np.sqrt(start_var * dts[:, None]) * profile[:, None] * z_spot
    log_returns = diffusion - 0.5 * start_var * dts[:, None] + jumps
    spot = state.spot[None, :] * np.exp(np.cumsum(log_returns, axis=0))
    realised = _realised_variance(state.realised_variance, log_returns, dts, realised_halflife_days)
    return SessionPath(
        spot=spot, variance=variance, realised_variance=realised, abs_shock=np.abs(z_spot)
    )


def _correlated_normals(
    rng: np.random.Generator, n_steps: int, n: int, correlation: float
) -> FloatArray:
    """Shocks sharing one market factor, so the indices move together."""
    common = rng.standard_normal((n_steps, 1))
    own = rng.standard_normal((n_steps, n))
    return math.sqrt(correlation) * common + math.sqrt(1.0 - correlation) * own


def _jumps(models: tuple[SpotModel, ...], rng: np.random.Generator, dts: FloatArray) -> FloatArray:
    """Log-jumps per step and index: Poisson arrivals with normal sizes."""
    intensity = np.array([m.jump_intensity for m in models])
    mean = np.array([m.jump_mean for m in models])
    std = np.array([m.jump_std for m in models])
    counts = rng.poisson(intensity[None, :] * dts[:, None])
    sizes = rng.standard_normal(counts.shape)
    return np.where(counts > 0, counts * mean + np.sqrt(counts) * std * sizes, 0.0)


def _variance_paths(
    models: tuple[SpotModel, ...],
    start: FloatArray,
    dts: FloatArray,
    z_spot: FloatArray,
    z_var: FloatArray,
    jumps: FloatArray,
) -> FloatArray:
    """Euler steps of the variance; sequential, so a plain loop over floats (fast enough)."""
    n_steps, n = z_spot.shape
    out = np.empty((n_steps, n))
    dt_list = dts.tolist()
    for j, m in enumerate(models):
        rho = m.spot_vol_correlation
        shocks = (rho * z_spot[:, j] + math.sqrt(1.0 - rho * rho) * z_var[:, j]).tolist()
        kicks = (m.jump_variance_kick * np.abs(jumps[:, j])).tolist()
        theta, kappa, xi, floor = m.long_run_vol**2, m.mean_reversion, m.vol_of_vol, m.min_vol**2
        v = float(start[j])
        column = out[:, j]
        for i in range(n_steps):
            dt = dt_list[i]
            v = v + kappa * (theta - v) * dt + xi * math.sqrt(v * dt) * shocks[i] + kicks[i]
            v = max(v, floor)
            column[i] = v
    return out


def _realised_variance(
    start: FloatArray, log_returns: FloatArray, dts: FloatArray, halflife_days: float
) -> FloatArray:
    """Exponentially weighted realised variance (annualised), a step at a time."""
    halflife = halflife_days / TRADING_DAYS_PER_YEAR
    alpha = 1.0 - np.exp(-math.log(2.0) * dts / halflife)
    samples = log_returns**2 / dts[:, None]
    # A constant weight per session step (the gap step aside) keeps this a linear filter.
    a = float(alpha[-1])
    out = np.empty_like(samples)
    first = start + float(alpha[0]) * (samples[0] - start)
    out[0] = first
    if len(samples) > 1:
        initial = ((1.0 - a) * first)[None, :]
        filtered, _ = lfilter([a], [1.0, -(1.0 - a)], samples[1:], axis=0, zi=initial)
        out[1:] = filtered
    return out
