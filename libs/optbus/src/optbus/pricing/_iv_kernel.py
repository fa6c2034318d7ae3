"""The compiled loops behind the implied-vol functions: checks, normalisation, solve, Greeks."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from optbus.pricing._guess_table import fast_implied_vol, refine, step_mode, table_guess
from optbus.pricing._jit import kernel
from optbus.pricing._lbr import normalised_implied_vol
from optbus.pricing._special import INV_SQRT_2, INV_SQRT_2PI, erfcx_nonneg

# Status codes; the names live in _types.IvStatus (numba needs plain ints here).
OK, INVALID_INPUT, BELOW_INTRINSIC, ABOVE_UPPER_BOUND, NO_TIME_VALUE, NO_CONVERGENCE = range(6)
_DBL_EPSILON = 2.220446049250313e-16
_ROUNDING_ULPS = 8.0
_DAYS_PER_YEAR = 365.0  # as _types.DAYS_PER_YEAR
_PER_POINT = 0.01  # as _types.PER_POINT
_BLOCK = 256  # options per block of implied_vol_loop: its scratch stays in L1


@kernel
def _valid(price: float, forward: float, strike: float, t: float, rate: float) -> bool:
    """Inputs for which an implied volatility can be asked at all."""
    finite = math.isfinite(price) and math.isfinite(forward) and math.isfinite(strike)
    finite = finite and math.isfinite(t) and math.isfinite(rate)
    return finite and price > 0.0 and forward > 0.0 and strike > 0.0 and t > 0.0


@kernel
def _total_vol(
    table: npt.NDArray[np.float64],
    is_call: bool,
    price: float,
    forward: float,
    strike: float,
    df: float,
    log_moneyness: float,
    min_time_value: float,
) -> tuple[float, int]:
    """Total volatility sigma sqrt(T) implied by a valid option's price, and the status.

    implied_vol_loop makes the same checks in the same order, written out for speed.
    """
    intrinsic = df * max(forward - strike if is_call else strike - forward, 0.0)
    # A price within rounding of the intrinsic value (a few ulps of the larger of the
    # discounted forward and strike) has no time value rather than being below intrinsic.
    if price < intrinsic - _ROUNDING_ULPS * _DBL_EPSILON * df * max(forward, strike):
        return math.nan, BELOW_INTRINSIC
    if price >= df * (forward if is_call else strike):
        return math.nan, ABOVE_UPPER_BOUND
    # The time value is the price of the out-of-the-money option of the same strike (by
    # put-call parity), to which the in-the-money one is mapped without losing digits.
    time_value = price - intrinsic
    if not (time_value >= min_time_value and time_value > 0.0):
        return math.nan, NO_TIME_VALUE
    x = -abs(log_moneyness)
    root = math.sqrt(forward * strike)
    beta = time_value / (df * root)
    # b_max = exp(x/2) = sqrt(min(F, K) / max(F, K)): a division instead of an exponential.
    b_max = min(forward, strike) / root
    if beta >= b_max:
        return math.nan, ABOVE_UPPER_BOUND
    if beta < 1e-300:
        return math.nan, NO_TIME_VALUE  # underflows the normalised Black function
    s = fast_implied_vol(table, beta, x, b_max)
    if not (s > 0.0 and math.isfinite(s)):
        return math.nan, NO_CONVERGENCE
    return s, OK


@kernel
def _store(
    iv_out: npt.NDArray[np.float64], status_out: npt.NDArray[np.int8], i: int, s: float, t: float
) -> None:
    """Option i's implied vol from its total vol s, or NaN and no_convergence."""
    if s > 0.0 and math.isfinite(s):
        iv_out[i] = s / math.sqrt(t)
        status_out[i] = OK
    else:
        iv_out[i] = math.nan
        status_out[i] = NO_CONVERGENCE


@kernel
def _reject(
    iv_out: npt.NDArray[np.float64], status_out: npt.NDArray[np.int8], i: int, status: int
) -> None:
    """Option i has no implied vol, for the reason status (written only on this path, not
    first for every option: a store per option less)."""
    iv_out[i] = math.nan
    status_out[i] = status


@kernel
def implied_vol_loop(
    is_call: npt.NDArray[np.bool_],
    price: npt.NDArray[np.float64],
    forward: npt.NDArray[np.float64],
    strike: npt.NDArray[np.float64],
    t: npt.NDArray[np.float64],
    rate: npt.NDArray[np.float64],
    min_time_value: float,
    table: npt.NDArray[np.float64],
    iv_out: npt.NDArray[np.float64],
    status_out: npt.NDArray[np.int8],
) -> None:
    """Fill iv_out and status_out; each input has the outputs' length (a broadcast view
    with stride 0 for a value shared by every option).

    Options go in blocks of _BLOCK: first the checks, the normalisation and the tabulated
    guess of each, then the Householder steps grouped by branch objective. In a random batch
    the objective of consecutive options is random, and the branches on it in the step were
    mispredicted a third of the time; grouped, they are predicted, and the same results cost
    about 20 ns less per option (1M random options, one core). The checks of _total_vol are
    written out here, each leaving the option at once: the (vol, status) pair it returns
    through every exit cost another 20.
    """
    n = iv_out.shape[0]
    x_of, beta_of = np.empty(_BLOCK), np.empty(_BLOCK)
    b_max_of, guess_of = np.empty(_BLOCK), np.empty(_BLOCK)
    by_mode = np.empty((3, _BLOCK), dtype=np.int64)  # block offsets, per objective
    counts = np.zeros(3, dtype=np.int64)
    for start in range(0, n, _BLOCK):
        counts[:] = 0
        for i in range(start, min(start + _BLOCK, n)):
            call, p, fwd, strk, ti, ri = is_call[i], price[i], forward[i], strike[i], t[i], rate[i]
            if not _valid(p, fwd, strk, ti, ri):
                _reject(iv_out, status_out, i, INVALID_INPUT)
                continue
            df = math.exp(-ri * ti)
            intrinsic = df * max(fwd - strk if call else strk - fwd, 0.0)
            if p < intrinsic - _ROUNDING_ULPS * _DBL_EPSILON * df * max(fwd, strk):
                _reject(iv_out, status_out, i, BELOW_INTRINSIC)
                continue
            if p >= df * (fwd if call else strk):
                _reject(iv_out, status_out, i, ABOVE_UPPER_BOUND)
                continue
            time_value = p - intrinsic
            if not (time_value >= min_time_value and time_value > 0.0):
                _reject(iv_out, status_out, i, NO_TIME_VALUE)
                continue
            x = -abs(math.log(fwd / strk))
            root = math.sqrt(fwd * strk)
            beta = time_value / (df * root)
            b_max = min(fwd, strk) / root
            if beta >= b_max:
                _reject(iv_out, status_out, i, ABOVE_UPPER_BOUND)
                continue
            if beta < 1e-300:
                _reject(iv_out, status_out, i, NO_TIME_VALUE)
                continue
            s = table_guess(table, beta, x, b_max)
            if not (s > 0.0 and math.isfinite(s)):
                _store(iv_out, status_out, i, normalised_implied_vol(beta, x, b_max), ti)
                continue
            k = i - start
            x_of[k], beta_of[k], b_max_of[k], guess_of[k] = x, beta, b_max, s
            mode = step_mode(s, beta, x, b_max)
            by_mode[mode, counts[mode]] = k
            counts[mode] += 1
        for mode in range(3):
            for m in range(counts[mode]):
                k = by_mode[mode, m]
                s = refine(guess_of[k], beta_of[k], x_of[k], b_max_of[k], mode)
                _store(iv_out, status_out, start + k, s, t[start + k])


@kernel
def _cdf(z: float, half_z_squared_exp: float) -> float:
    """N(z) given exp(-z^2/2), which the caller has anyway: erfcx supplies the rest."""
    tail = 0.5 * erfcx_nonneg(abs(z) * INV_SQRT_2) * half_z_squared_exp
    return tail if z < 0.0 else 1.0 - tail


@kernel
def _write_greeks(
    out: npt.NDArray[np.float64],
    i: int,
    is_call: bool,
    forward: float,
    strike: float,
    t: float,
    rate: float,
    df: float,
    log_moneyness: float,
    s: float,
    raw: bool,
) -> None:
    """Black-76 price and Greeks at total vol s > 0 into column i of out (formulas as in
    black76_greeks). exp(-d2^2/2) = exp(-d1^2/2) F/K saves an exponential."""
    w = 1.0 if is_call else -1.0
    sqrt_t = math.sqrt(t)
    d1 = log_moneyness / s + 0.5 * s
    e1 = math.exp(-0.5 * d1 * d1)
    n1 = _cdf(w * d1, e1)
    n2 = _cdf(w * (d1 - s), e1 * forward / strike)
    pdf = INV_SQRT_2PI * e1
    price = df * w * (forward * n1 - strike * n2)
    vega = df * forward * pdf * sqrt_t
    theta = rate * price - 0.5 * df * forward * pdf * s / t
    rho = -t * price
    out[0, i] = price
    out[1, i] = df * w * n1
    out[2, i] = df * pdf / (forward * s)
    out[3, i] = theta if raw else theta / _DAYS_PER_YEAR
    out[4, i] = vega if raw else vega * _PER_POINT
    out[5, i] = rho if raw else rho * _PER_POINT


@kernel
def implied_greeks_loop(
    is_call: npt.NDArray[np.bool_],
    price: npt.NDArray[np.float64],
    forward: npt.NDArray[np.float64],
    strike: npt.NDArray[np.float64],
    t: npt.NDArray[np.float64],
    rate: npt.NDArray[np.float64],
    min_time_value: float,
    raw: bool,
    table: npt.NDArray[np.float64],
    iv_out: npt.NDArray[np.float64],
    status_out: npt.NDArray[np.int8],
    greeks_out: npt.NDArray[np.float64],
) -> None:
    """Implied vol, status and the Greeks at it (rows of greeks_out) in one pass; each input
    has the outputs' length (a broadcast view with stride 0 for a value shared by every
    option)."""
    for i in range(iv_out.shape[0]):
        call, fwd, strk, ti, ri = is_call[i], forward[i], strike[i], t[i], rate[i]
        if not _valid(price[i], fwd, strk, ti, ri):
            s, status = math.nan, INVALID_INPUT
        else:
            df = math.exp(-ri * ti)
            log_moneyness = math.log(fwd / strk)
            s, status = _total_vol(
                table, call, price[i], fwd, strk, df, log_moneyness, min_time_value
            )
        iv_out[i] = s / math.sqrt(ti)
        status_out[i] = status
        if status == OK:
            _write_greeks(greeks_out, i, call, fwd, strk, ti, ri, df, log_moneyness, s, raw)
        else:
            greeks_out[:, i] = math.nan
