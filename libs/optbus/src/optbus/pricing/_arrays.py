"""Shared array helpers for the pricing models: input coercion and broadcasting."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
Int8Array: TypeAlias = npt.NDArray[np.int8]
ArrayLike: TypeAlias = npt.ArrayLike


def as_float(x: ArrayLike) -> FloatArray:
    """Coerce one numeric argument to a float64 array without copying when possible."""
    return np.asarray(x, dtype=np.float64)


def as_sign(is_call: ArrayLike) -> FloatArray:
    """Turn the call/put flag into the payoff sign w: +1 for a call, -1 for a put."""
    flag = np.asarray(is_call, dtype=np.bool_)
    return np.where(flag, 1.0, -1.0)
