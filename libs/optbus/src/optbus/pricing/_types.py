"""Result types shared by the pricing functions: Greeks, implied-vol results and status codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from optbus.pricing._arrays import FloatArray

# Trader units: the conversions from the raw (per year, per 1.00) derivatives.
DAYS_PER_YEAR = 365.0  # theta per calendar day, consistent with ACT/365 time to expiry
PER_POINT = 0.01  # vega and rho per one percentage point of vol or rate


@dataclass(frozen=True, slots=True)
class Greeks:
    """Price and first-order sensitivities of a batch of options, one array per measure.

    In trader units (the default) theta is per calendar day, vega per 1 percentage point of
    volatility and rho per 1 percentage point of rate; with ``raw=True`` they are per year and
    per 1.00. Delta and gamma are with respect to the model's underlying (forward or spot).
    """

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray
    rho: FloatArray


class IvStatus(IntEnum):
    """Why an implied volatility is or is not available; the value is the int8 status code."""

    OK = 0
    INVALID_INPUT = 1
    BELOW_INTRINSIC = 2
    ABOVE_UPPER_BOUND = 3
    NO_TIME_VALUE = 4
    NO_CONVERGENCE = 5


IV_STATUS_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in IvStatus)


@dataclass(frozen=True, slots=True)
class IvResult:
    """Implied volatilities (NaN where none exists) with a per-option status code (IvStatus)."""

    iv: FloatArray
    status: npt.NDArray[np.int8]

    def status_names(self) -> npt.NDArray[np.str_]:
        """Return the status of every option as its name, for logs and CSV output."""
        return np.asarray(IV_STATUS_NAMES)[self.status]


def to_trader_units(raw: Greeks) -> Greeks:
    """Convert raw Greeks (per year, per 1.00) into trader units (per day, per 1 point)."""
    return Greeks(
        price=raw.price,
        delta=raw.delta,
        gamma=raw.gamma,
        theta=raw.theta / DAYS_PER_YEAR,
        vega=raw.vega * PER_POINT,
        rho=raw.rho * PER_POINT,
    )
