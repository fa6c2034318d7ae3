"""Compiled chain tools: parity forward, chain aggregates, and a whole chain priced in one call.

Ports of the numpy formulations they replace (a chain of a hundred options spent most of its
time in numpy's per-call overhead), written to give numpy's results to the last bit: every
operation rounds on its own (``exact_kernel``), sums are numpy's pairwise summation, the
interpolation is ``np.interp``'s, sorts are stable, and ties break as ``np.lexsort`` and
``np.argsort(kind="stable")`` break them. ``tests/pricing/test_pricing_chain_kernel.py`` holds
them to the numpy formulations.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from optbus.pricing._iv_kernel import implied_greeks_loop
from optbus.pricing._jit import exact_kernel

FloatArray = npt.NDArray[np.float64]

_PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE
_UNROLL = 8
_PARITY_NEAREST = 3  # strikes the parity forward is read from (forward_from_parity's default)


@exact_kernel
def _block_sum(a: FloatArray, lo: int, n: int) -> float:
    """numpy's pairwise summation of a block of at most 128: a loop, or 8 partial sums."""
    if n < _UNROLL:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r = a[lo : lo + _UNROLL].copy()
    i = _UNROLL
    while i < n - (n % _UNROLL):
        for j in range(_UNROLL):
            r[j] += a[lo + i + j]
        i += _UNROLL
    res = float(((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@exact_kernel
def _pairwise(a: FloatArray, n: int) -> float:
    """numpy's pairwise summation of a[:n]: above 128, the sum of both halves' (halves cut at
    a multiple of 8). Without recursion, which numba's on-disk cache does not survive."""
    if n <= _PAIRWISE_BLOCK:
        return _block_sum(a, 0, n)
    depth = 2 * (int(math.log2(n)) + 2)
    starts, sizes = np.empty(depth, np.int64), np.empty(depth, np.int64)
    stages, values = np.zeros(depth, np.int64), np.empty(depth)
    starts[0], sizes[0], frames, held = 0, n, 1, 0
    while frames:
        top = frames - 1
        lo, size, half = starts[top], sizes[top], sizes[top] // 2
        half -= half % _UNROLL
        if size <= _PAIRWISE_BLOCK:
            values[held], held, frames = _block_sum(a, lo, size), held + 1, top
        elif stages[top] == 0:
            stages[top], stages[frames] = 1, 0
            starts[frames], sizes[frames], frames = lo, half, frames + 1
        elif stages[top] == 1:
            stages[top], stages[frames] = 2, 0
            starts[frames], sizes[frames], frames = lo + half, size - half, frames + 1
        else:
            values[held - 2], held, frames = values[held - 2] + values[held - 1], held - 1, top
    return float(values[0])


@exact_kernel
def array_sum(a: FloatArray) -> float:
    """``np.sum`` of a 1-D array, to the bit."""
    return 0.0 + _pairwise(a, a.shape[0])


@exact_kernel
def _nansum(a: FloatArray) -> float:
    """``np.nansum`` of a 1-D array, to the bit."""
    zeroed = np.where(np.isnan(a), 0.0, a)
    return array_sum(zeroed)


@exact_kernel
def _sort_lt(a: float, b: float) -> bool:
    """numpy's sort order for floats: NaN after everything."""
    return a < b or (b != b and a == a)


@exact_kernel
def _stable_order(keys: FloatArray) -> npt.NDArray[np.int64]:
    """``np.argsort(keys, kind="stable")`` (insertion sort: chains are short)."""
    n = keys.shape[0]
    order = np.arange(n)
    for i in range(1, n):
        current = order[i]
        j = i - 1
        while j >= 0 and _sort_lt(keys[current], keys[order[j]]):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = current
    return order


@exact_kernel
def _interp_sorted(x0: float, xs: FloatArray, ys: FloatArray) -> float:
    """``np.interp(x0, xs, ys)`` for finite ascending xs with xs[0] <= x0 <= xs[-1]."""
    last = xs.shape[0] - 1
    j = 0
    while j < last and xs[j + 1] <= x0:
        j += 1
    if j == last or xs[j] == x0:
        return float(ys[j])
    slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
    value = float(slope * (x0 - xs[j]) + ys[j])
    if math.isnan(value):
        value = float(slope * (x0 - xs[j + 1]) + ys[j + 1])
        if math.isnan(value) and ys[j] == ys[j + 1]:
            value = float(ys[j])
    return value


@exact_kernel
def interp_inside(x0: float, xs: FloatArray, ys: FloatArray) -> float:
    """Linear interpolation of the finite points (xs, ys) at x0; NaN outside their range."""
    keep = np.isfinite(xs) & np.isfinite(ys)
    kx, ky = xs[keep], ys[keep]
    if kx.shape[0] == 0 or not (kx.min() <= x0 <= kx.max()):
        return math.nan
    order = _stable_order(kx)
    return _interp_sorted(x0, kx[order], ky[order])


@exact_kernel
def _median(values: FloatArray) -> float:
    """``np.median`` of a few finite-or-infinite values (no NaN)."""
    ordered = np.sort(values)
    n = ordered.shape[0]
    middle = n // 2
    if n % 2 == 1:
        return float((0.0 + (0.0 + ordered[middle])) / 1.0)
    return float((0.0 + ((0.0 + ordered[middle - 1]) + ordered[middle])) / 2.0)


@exact_kernel
def parity_forward(
    k: FloatArray, c: FloatArray, p: FloatArray, discount: float, nearest: int
) -> float:
    """The median of K + (C - P) / DF over the ``nearest`` usable strikes of smallest |C - P|."""
    usable = np.isfinite(k) & (k > 0.0) & np.isfinite(c) & (c > 0.0) & np.isfinite(p) & (p > 0.0)
    if not usable.any():
        return math.nan
    spread = c[usable] - p[usable]
    closest = _stable_order(np.abs(spread))[: max(nearest, 1)]
    return _median(k[usable][closest] + spread[closest] / discount)


@exact_kernel
def atm_iv(k: FloatArray, forward: float, call_iv: FloatArray, put_iv: FloatArray) -> float:
    """IV at the forward across the out-of-the-money smile (see ``aggregates.chain_aggregates``)."""
    both = np.isfinite(call_iv) & np.isfinite(put_iv)
    either = np.where(
        both, 0.5 * (call_iv + put_iv), np.where(np.isfinite(call_iv), call_iv, put_iv)
    )
    otm_iv = np.where(k < forward, put_iv, call_iv)
    otm_iv = np.where(k == forward, either, otm_iv)
    return interp_inside(forward, k, otm_iv)


@exact_kernel
def max_pain(strikes: FloatArray, call_oi: FloatArray, put_oi: FloatArray) -> float:
    """The settlement strike of least payout to holders (see ``aggregates.chain_aggregates``)."""
    keep = np.isfinite(strikes)
    k = strikes[keep]
    c_oi, p_oi = np.nan_to_num(call_oi[keep]), np.nan_to_num(put_oi[keep])
    n = k.shape[0]
    if n == 0 or array_sum(c_oi) + array_sum(p_oi) <= 0.0:
        return math.nan
    payout = np.empty(n)
    row = np.empty(n)
    for i in range(n):
        for j in range(n):
            row[j] = c_oi[j] * max(k[i] - k[j], 0.0) + p_oi[j] * max(k[j] - k[i], 0.0)
        payout[i] = array_sum(row)
    best = 0
    for i in range(1, n):
        lower = _sort_lt(payout[i], payout[best])
        tied = not lower and not _sort_lt(payout[best], payout[i])
        if lower or (tied and _sort_lt(k[i], k[best])):
            best = i
    return float(k[best])


@exact_kernel
def _ratio(numerator: FloatArray, denominator: FloatArray) -> float:
    total = _nansum(denominator)
    return _nansum(numerator) / total if total > 0.0 else math.nan


@exact_kernel
def chain_aggregates_into(
    k: FloatArray,
    forward: float,
    call_iv: FloatArray,
    put_iv: FloatArray,
    call_delta: FloatArray,
    put_delta: FloatArray,
    call_oi: FloatArray,
    put_oi: FloatArray,
    call_volume: FloatArray,
    put_volume: FloatArray,
    out: FloatArray,
) -> None:
    """ATM IV, 25-delta risk reversal and butterfly, PCRs and max pain into out[0:6]."""
    atm = atm_iv(k, forward, call_iv, put_iv) if math.isfinite(forward) else math.nan
    call_otm, put_otm = k >= forward, k <= forward
    iv25c = interp_inside(0.25, call_delta[call_otm], call_iv[call_otm])
    iv25p = interp_inside(-0.25, put_delta[put_otm], put_iv[put_otm])
    out[0] = atm
    out[1] = iv25c - iv25p
    out[2] = 0.5 * (iv25c + iv25p) - atm
    out[3] = _ratio(put_oi, call_oi)
    out[4] = _ratio(put_volume, call_volume)
    out[5] = max_pain(k, call_oi, put_oi)


@exact_kernel
def _mids(bid: FloatArray, ask: FloatArray) -> FloatArray:
    quoted = (bid > 0) & (ask > 0) & (ask >= bid)
    return np.where(quoted, (bid + ask) / 2, np.nan)


@exact_kernel
def price_chain_into(
    columns: FloatArray,
    futures: float,
    t: float,
    rate: float,
    discount: float,
    min_time_value: float,
    table: FloatArray,
    sides: FloatArray,
    status: npt.NDArray[np.int8],
    quoted: npt.NDArray[np.bool_],
    scalars: FloatArray,
) -> None:
    """A whole chain: mids, parity forward (else ``futures``), IVs and Greeks, aggregates.

    ``columns`` rows: strikes, call bid, call ask, put bid, put ask, call and put open
    interest, call and put volume. Out: ``sides[s]`` (calls then puts) rows iv, delta, gamma,
    theta, vega, rho; ``status`` the IvStatus codes; ``quoted`` where a two-sided quote is;
    ``scalars`` the forward then the six aggregates. ``discount`` is parity's exp(-rate t),
    NaN when parity cannot be used.
    """
    n = columns.shape[1]
    k = columns[0]
    call_mid, put_mid = _mids(columns[1], columns[2]), _mids(columns[3], columns[4])
    forward = math.nan
    if not math.isnan(discount):
        forward = parity_forward(k, call_mid, put_mid, discount, _PARITY_NEAREST)
    if not math.isfinite(forward):
        forward = futures
    both = np.empty(2 * n)
    both[:n], both[n:] = call_mid, put_mid
    strikes = np.empty(2 * n)
    strikes[:n], strikes[n:] = k, k
    iv, codes, greeks = np.empty(2 * n), np.empty(2 * n, dtype=np.int8), np.empty((6, 2 * n))
    implied_greeks_loop(
        np.arange(2 * n) < n, both, np.full(2 * n, forward), strikes, np.full(2 * n, t),
        np.full(2 * n, rate), min_time_value, False, table, iv, codes, greeks,
    )  # fmt: skip
    for side in range(2):
        part = slice(side * n, (side + 1) * n)
        sides[side, 0] = iv[part]
        sides[side, 1:] = greeks[1:, part]
        status[side] = codes[part]
        quoted[side] = np.isfinite(both[part])
    scalars[0] = forward
    chain_aggregates_into(
        k, forward, sides[0, 0], sides[1, 0], sides[0, 1], sides[1, 1],
        columns[5], columns[6], columns[7], columns[8], scalars[1:],
    )  # fmt: skip
