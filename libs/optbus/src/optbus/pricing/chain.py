"""A whole option chain priced in one compiled call: forward, IVs, Greeks and aggregates.

What the greeks service does to every snapshot, equal to the step-by-step functions
(``forward_from_parity``, ``implied_greeks_black76``, ``chain_aggregates``) to the last bit,
without their per-call overhead, which for a chain of a hundred options is most of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optbus.pricing._arrays import BoolArray, FloatArray, Int8Array
from optbus.pricing._chain_kernel import price_chain_into
from optbus.pricing.aggregates import Aggregates
from optbus.pricing.implied_vol import TICK, _table
from optbus.pricing.parity import parity_discount

CHAIN_COLUMNS: tuple[str, ...] = (
    "strike", "call_bid", "call_ask", "put_bid", "put_ask",
    "call_open_interest", "put_open_interest", "call_volume", "put_volume",
)  # fmt: skip
"""The rows of ``price_chain``'s input, one column per strike."""

SIDE_MEASURES: tuple[str, ...] = ("iv", "delta", "gamma", "theta", "vega", "rho")
"""The rows of each side of ``PricedChain.sides``."""


@dataclass(frozen=True, slots=True)
class PricedChain:
    """A chain's forward, per-option IVs and Greeks, and aggregates.

    ``sides`` has shape (2, 6, n): calls then puts, rows as ``SIDE_MEASURES`` (trader units,
    NaN where the IV does not exist); ``status`` (2, n) the IvStatus codes; ``quoted`` (2, n)
    where the option has a two-sided quote (a mid to invert).
    """

    forward: float
    sides: FloatArray
    status: Int8Array
    quoted: BoolArray
    aggregates: Aggregates


def price_chain(
    columns: npt.ArrayLike,
    futures: float,
    expiry_years: float,
    rate: float,
    *,
    min_time_value: float = TICK,
) -> PricedChain:
    """Price a chain given as rows ``CHAIN_COLUMNS``, with Black-76 on the parity forward.

    Mids are those of two-sided, uncrossed quotes; the forward is ``forward_from_parity`` of
    them, else ``futures`` when parity cannot be read off the chain; IVs and Greeks are
    ``implied_greeks_black76`` at that forward, aggregates ``chain_aggregates`` of them.
    """
    rows = np.ascontiguousarray(columns, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[0] != len(CHAIN_COLUMNS):
        raise ValueError(f"a chain is {len(CHAIN_COLUMNS)} rows ({', '.join(CHAIN_COLUMNS)})")
    n = rows.shape[1]
    sides = np.empty((2, len(SIDE_MEASURES), n))
    status = np.empty((2, n), dtype=np.int8)
    quoted = np.empty((2, n), dtype=np.bool_)
    scalars = np.empty(7)
    price_chain_into(
        rows, float(futures), float(expiry_years), float(rate),
        parity_discount(expiry_years, rate), float(min_time_value), _table(),
        sides, status, quoted, scalars,
    )  # fmt: skip
    return PricedChain(
        forward=float(scalars[0]),
        sides=sides,
        status=status,
        quoted=quoted,
        aggregates=Aggregates.of(scalars[1:]),
    )


def compile_kernels() -> None:
    """Compile (or load from numba's cache) what ``price_chain`` runs, by pricing a tiny chain.

    A service calls it before it takes traffic: in a fresh environment the compilation takes
    tens of seconds, which the first live chain (or a replay's lockstep) must not wait for.
    """
    strikes = [95.0, 100.0, 105.0]
    call_bid, call_ask = [6.0, 2.9, 0.9], [6.2, 3.1, 1.1]
    put_bid, put_ask = [0.9, 2.9, 5.9], [1.1, 3.1, 6.1]
    interest = [100.0, 200.0, 100.0]
    price_chain(
        [strikes, call_bid, call_ask, put_bid, put_ask, interest, interest, interest, interest],
        futures=100.0, expiry_years=0.05, rate=0.065,
    )  # fmt: skip
