"""Implied volatility for Black-76 and Black-Scholes-Merton, vectorised and never raising.

Every option gets an implied volatility or NaN with a reason (IvStatus): a bad option never
spoils the rest of its chain. The solver is Jaeckel's "Let's Be Rational" (see _lbr.py),
compiled with numba; the first call in a fresh environment compiles it (cached on disk).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from optbus.pricing._arrays import ArrayLike, FloatArray, as_float
from optbus.pricing._guess_table import build_table
from optbus.pricing._iv_kernel import implied_greeks_loop, implied_vol_loop
from optbus.pricing._types import Greeks, IvResult

TICK = 0.05  # NSE option price tick, in rupees: less time value than this carries no vol
_MIN_CHUNK = 50_000  # below this a thread costs more than it saves


@functools.cache
def _table() -> FloatArray:
    """The initial-guess table, built by the exact solver on first use (about 15 ms)."""
    table: FloatArray = build_table()
    table.setflags(write=False)
    return table


def _flat_inputs(
    is_call: ArrayLike, *floats: ArrayLike
) -> tuple[tuple[int, ...], int, list[npt.NDArray[Any]]]:
    """The arguments' broadcast shape, its size, and 1-D arrays of that size for the loops.

    Scalars and 1-D arrays of one length (the usual chain) take a fast path: each length-1
    input becomes a stride-0 view of the full length (no copy), as numpy's general
    broadcasting would cost more than pricing a chain of a few hundred options. Other shapes
    are broadcast and flattened. The loops index every input alike: a per-input stride
    inside them costs more per option than the view does per call.
    """
    arrays = [np.asarray(is_call, dtype=np.bool_), *map(as_float, floats)]
    lengths = {a.shape[0] for a in arrays if a.ndim == 1 and a.shape[0] != 1}
    if all(a.ndim <= 1 for a in arrays) and len(lengths) <= 1:
        n = lengths.pop() if lengths else 1
        shape = (n,) if any(a.ndim == 1 for a in arrays) else ()
        flat = (np.ascontiguousarray(a.reshape(-1)) for a in arrays)
        return shape, n, [a if a.shape[0] == n else np.broadcast_to(a, (n,)) for a in flat]
    broadcast = np.broadcast_arrays(*arrays)
    shape = broadcast[0].shape
    return shape, broadcast[0].size, [np.ascontiguousarray(a).reshape(-1) for a in broadcast]


def _run(
    loop: Callable[..., None],
    inputs: list[npt.NDArray[Any]],
    options: tuple[object, ...],
    outputs: list[npt.NDArray[Any]],
    workers: int,
) -> None:
    """Run a compiled loop, split into contiguous chunks over threads when it pays off.

    The loops release the GIL (nogil), so the chunks run in parallel on separate cores.
    """
    n = outputs[0].shape[-1]
    chunks = min(max(workers, 1), n // _MIN_CHUNK) or 1
    if chunks == 1:
        loop(*inputs, *options, *outputs)
        return
    bounds = np.linspace(0, n, chunks + 1).astype(int)

    def run_chunk(k: int) -> None:
        part = slice(bounds[k], bounds[k + 1])
        loop(*(a[part] for a in inputs), *options, *(o[..., part] for o in outputs))

    with ThreadPoolExecutor(max_workers=chunks) as pool:
        list(pool.map(run_chunk, range(chunks)))


def implied_vol_black76(
    is_call: ArrayLike,
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    *,
    min_time_value: float = TICK,
    workers: int = 1,
) -> IvResult:
    """Black-76 implied volatility of option prices on a forward; arguments broadcast.

    Status per option (IvStatus): invalid_input for a non-positive or NaN price, forward,
    strike or expiry (or a NaN rate); below_intrinsic when the price is below the discounted
    intrinsic value; above_upper_bound at or above the discounted forward (calls) or strike
    (puts); no_time_value when price minus intrinsic is below ``min_time_value`` (one 0.05
    tick by default; pass 0.0 to invert any positive time value). ``workers`` > 1 splits
    large batches (50,000 options or more per thread) over threads.
    """
    shape, n, inputs = _flat_inputs(is_call, price, forward, strike, expiry_years, rate)
    iv, status = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.int8)
    _run(implied_vol_loop, inputs, (float(min_time_value), _table()), [iv, status], workers)
    return IvResult(iv=iv.reshape(shape), status=status.reshape(shape))


def implied_greeks_black76(
    is_call: ArrayLike,
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    *,
    raw: bool = False,
    min_time_value: float = TICK,
    workers: int = 1,
) -> tuple[IvResult, Greeks]:
    """Implied vol and the Greeks at it, in one compiled pass: what a chain snapshot needs.

    Equal to implied_vol_black76 followed by black76_greeks at the implied vols (to about
    1e-12 relative: N(d) is computed through erfcx here, scipy's ndtr there), without their
    temporaries and per-call overhead. Greeks are NaN wherever the status is not ok; units
    as in Greeks (trader units unless ``raw``).
    """
    shape, n, inputs = _flat_inputs(is_call, price, forward, strike, expiry_years, rate)
    iv, status = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.int8)
    greeks: FloatArray = np.empty((6, n), dtype=np.float64)
    options = (float(min_time_value), bool(raw), _table())
    _run(implied_greeks_loop, inputs, options, [iv, status, greeks], workers)
    result = IvResult(iv=iv.reshape(shape), status=status.reshape(shape))
    return result, Greeks(*(g.reshape(shape) for g in greeks))


def implied_vol_bsm(
    is_call: ArrayLike,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike,
    *,
    min_time_value: float = TICK,
    workers: int = 1,
) -> IvResult:
    """Black-Scholes-Merton implied volatility of option prices on a spot; arguments broadcast.

    Solved as Black-76 on the forward F = S exp((r - q) T); the statuses are those of
    implied_vol_black76 (a NaN dividend yield is invalid_input).
    """
    s, t, r, q = (as_float(a) for a in (spot, expiry_years, rate, dividend_yield))
    with np.errstate(over="ignore", invalid="ignore"):
        forward: FloatArray = s * np.exp((r - q) * t)
    return implied_vol_black76(
        is_call, price, forward, strike, t, r, min_time_value=min_time_value, workers=workers
    )
