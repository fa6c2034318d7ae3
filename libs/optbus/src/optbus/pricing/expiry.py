"""Time to expiry: calendar time (ACT/365) from an event to the expiry's close."""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

from optbus.pricing._arrays import FloatArray

NS_PER_YEAR = 365 * 24 * 60 * 60 * 1_000_000_000  # ACT/365: a year is 365 calendar days


@overload
def time_to_expiry_years(ts_ns: int, expiry_close_ns: int) -> float: ...


@overload
def time_to_expiry_years(
    ts_ns: int | npt.NDArray[np.int64], expiry_close_ns: int | npt.NDArray[np.int64]
) -> float | FloatArray: ...


def time_to_expiry_years(
    ts_ns: int | npt.NDArray[np.int64], expiry_close_ns: int | npt.NDArray[np.int64]
) -> float | FloatArray:
    """Years from the event time to the expiry's close (15:30 IST), calendar time ACT/365.

    Both times are integer nanoseconds since the epoch; the difference is taken in integers,
    so it is exact to the nanosecond (epoch nanoseconds do not fit a float's 53 bits). Every
    calendar second counts, nights, weekends and holidays included, which is what makes
    theta per calendar day consistent. At and after the close the result is 0.0: there is no
    artificial floor, the price functions give intrinsic value at zero time and the implied
    volatility functions report invalid_input. Scalars give a float, arrays an array.
    """
    if isinstance(ts_ns, int) and isinstance(expiry_close_ns, int):
        return max(expiry_close_ns - ts_ns, 0) / NS_PER_YEAR
    remaining = np.asarray(expiry_close_ns, dtype=np.int64) - np.asarray(ts_ns, dtype=np.int64)
    return np.maximum(remaining, 0).astype(np.float64) / NS_PER_YEAR
