"""The compiled loop behind implied_vol_black76: per-option checks, normalisation, solve."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from optbus.pricing._jit import kernel
from optbus.pricing._lbr import normalised_implied_vol

# Status codes; the names live in _types.IvStatus (numba needs plain ints here).
OK, INVALID_INPUT, BELOW_INTRINSIC, ABOVE_UPPER_BOUND, NO_TIME_VALUE, NO_CONVERGENCE = range(6)
_DBL_EPSILON = 2.220446049250313e-16
_ROUNDING_ULPS = 8.0


@kernel
def _valid(price: float, forward: float, strike: float, t: float, rate: float) -> bool:
    """Inputs for which an implied volatility can be asked at all."""
    finite = math.isfinite(price) and math.isfinite(forward) and math.isfinite(strike)
    finite = finite and math.isfinite(t) and math.isfinite(rate)
    return finite and price > 0.0 and forward > 0.0 and strike > 0.0 and t > 0.0


@kernel
def implied_vol_one(
    is_call: bool,
    price: float,
    forward: float,
    strike: float,
    t: float,
    rate: float,
    min_time_value: float,
) -> tuple[float, int]:
    """Black-76 implied volatility of one option and its status code."""
    if not _valid(price, forward, strike, t, rate):
        return math.nan, INVALID_INPUT
    df = math.exp(-rate * t)
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
    x = -abs(math.log(forward / strike))
    beta = time_value / (df * math.sqrt(forward * strike))
    b_max = math.exp(0.5 * x)
    if beta >= b_max:
        return math.nan, ABOVE_UPPER_BOUND
    if beta < 1e-300:
        return math.nan, NO_TIME_VALUE  # underflows the normalised Black function
    s = normalised_implied_vol(beta, x, b_max)
    if not (s > 0.0 and math.isfinite(s)):
        return math.nan, NO_CONVERGENCE
    return s / math.sqrt(t), OK


@kernel
def implied_vol_loop(
    is_call: npt.NDArray[np.bool_],
    price: npt.NDArray[np.float64],
    forward: npt.NDArray[np.float64],
    strike: npt.NDArray[np.float64],
    t: npt.NDArray[np.float64],
    rate: npt.NDArray[np.float64],
    min_time_value: float,
    iv_out: npt.NDArray[np.float64],
    status_out: npt.NDArray[np.int8],
) -> None:
    """Fill iv_out and status_out for equally long 1-D input arrays."""
    for i in range(price.shape[0]):
        iv, status = implied_vol_one(
            is_call[i], price[i], forward[i], strike[i], t[i], rate[i], min_time_value
        )
        iv_out[i] = iv
        status_out[i] = status
