"""The compiled chain tools give the numpy formulations' results to the last bit.

The oracles below are the numpy code the kernels replaced (``_chain_kernel``'s docstring):
any difference, even in the last bit of a float, would change what a replay produces.
"""

import math
import subprocess
import sys
from dataclasses import astuple

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from optbus.pricing import (
    CHAIN_COLUMNS,
    black76_price,
    chain_aggregates,
    forward_from_parity,
    implied_greeks_black76,
    price_chain,
)
from optbus.pricing._chain_kernel import array_sum

T, R = 7 / 365, 0.065


def _interp_inside_oracle(x0: float, xs: np.ndarray, ys: np.ndarray) -> float:
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if xs.size == 0 or not (xs.min() <= x0 <= xs.max()):
        return math.nan
    order = np.argsort(xs, kind="stable")
    return float(np.interp(x0, xs[order], ys[order]))


def _aggregates_oracle(
    k: np.ndarray, forward: float, c_iv: np.ndarray, p_iv: np.ndarray,
    c_delta: np.ndarray, p_delta: np.ndarray, c_oi: np.ndarray, p_oi: np.ndarray,
    c_vol: np.ndarray, p_vol: np.ndarray,
) -> tuple[float, ...]:  # fmt: skip
    atm = math.nan
    if math.isfinite(forward):
        both = np.isfinite(c_iv) & np.isfinite(p_iv)
        either = np.where(both, 0.5 * (c_iv + p_iv), np.where(np.isfinite(c_iv), c_iv, p_iv))
        otm_iv = np.where(k < forward, p_iv, c_iv)
        atm = _interp_inside_oracle(forward, k, np.where(k == forward, either, otm_iv))
    calls, puts = k >= forward, k <= forward
    iv25c = _interp_inside_oracle(0.25, c_delta[calls], c_iv[calls])
    iv25p = _interp_inside_oracle(-0.25, p_delta[puts], p_iv[puts])

    def ratio(numerator: np.ndarray, denominator: np.ndarray) -> float:
        total = float(np.nansum(denominator))
        return float(np.nansum(numerator)) / total if total > 0.0 else math.nan

    keep = np.isfinite(k)
    kk, coi, poi = k[keep], np.nan_to_num(c_oi[keep]), np.nan_to_num(p_oi[keep])
    pain = math.nan
    if kk.size and coi.sum() + poi.sum() > 0.0:
        settle = kk[:, None]
        payout = (coi * np.maximum(settle - kk, 0.0) + poi * np.maximum(kk - settle, 0.0)).sum(1)
        pain = float(kk[np.lexsort((kk, payout))[0]])
    return (atm, iv25c - iv25p, 0.5 * (iv25c + iv25p) - atm,
            ratio(p_oi, c_oi), ratio(p_vol, c_vol), pain)  # fmt: skip


def _parity_oracle(k: np.ndarray, c: np.ndarray, p: np.ndarray) -> float:
    df = math.exp(-R * T)
    usable = np.isfinite(k) & (k > 0.0) & np.isfinite(c) & (c > 0.0) & np.isfinite(p) & (p > 0.0)
    if not usable.any():
        return math.nan
    spread = c[usable] - p[usable]
    closest = np.argsort(np.abs(spread), kind="stable")[:3]
    return float(np.median(k[usable][closest] + spread[closest] / df))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _noisy_chain(draw: st.DrawFn, n: int) -> dict[str, np.ndarray]:
    """Model prices of a chain with random gaps, ties, crossed and stale quotes."""
    strikes = 24_000.0 + 50.0 * np.arange(n)
    forward = draw(st.floats(24_000.0, 24_000.0 + 50.0 * n))
    vol = np.asarray(draw(arrays(np.float64, n, elements=st.floats(0.05, 0.6))))
    columns = {"strike": strikes}
    for side, is_call in (("call", True), ("put", False)):
        mid = np.round(black76_price(is_call, forward, strikes, T, R, vol), 2)
        half_spread = np.asarray(draw(arrays(np.float64, n, elements=st.sampled_from(
            [0.0, 0.05, 0.5, -1.0, np.nan]))))  # fmt: skip
        columns[f"{side}_bid"] = mid - half_spread
        columns[f"{side}_ask"] = mid + np.abs(half_spread)
        for field in ("open_interest", "volume"):
            columns[f"{side}_{field}"] = np.asarray(draw(arrays(np.float64, n, elements=(
                st.sampled_from([0.0, 65.0, 1e6, np.nan]) | st.floats(0, 1e7)))))  # fmt: skip
    return columns


@st.composite
def chains(draw: st.DrawFn) -> dict[str, np.ndarray]:
    return _noisy_chain(draw, draw(st.integers(0, 70)))


@settings(deadline=None)
@given(arrays(np.float64, st.integers(0, 1_000), elements=st.floats(-1e12, 1e12)))
def test_array_sum_is_numpys_pairwise_sum(values: np.ndarray) -> None:
    assert array_sum(values) == np.sum(values)


@settings(max_examples=120, deadline=None)
@given(chains())
def test_chain_aggregates_equal_the_numpy_formulation_bit_for_bit(
    chain: dict[str, np.ndarray],
) -> None:
    k = chain["strike"]
    call_mid = np.where(chain["call_bid"] > 0, chain["call_bid"], np.nan)
    put_mid = np.where(chain["put_bid"] > 0, chain["put_bid"], np.nan)
    forward = float(np.nanmedian(k)) if k.size else math.nan
    calls = implied_greeks_black76(True, call_mid, forward, k, T, R)
    puts = implied_greeks_black76(False, put_mid, forward, k, T, R)
    inputs = (k, forward, calls[0].iv, puts[0].iv, calls[1].delta, puts[1].delta,
              chain["call_open_interest"], chain["put_open_interest"],
              chain["call_volume"], chain["put_volume"])  # fmt: skip

    agg = chain_aggregates(*inputs)

    expected = _aggregates_oracle(*inputs)
    got = (agg.atm_iv, agg.risk_reversal_25d, agg.butterfly_25d, agg.pcr_open_interest,
           agg.pcr_volume, agg.max_pain)  # fmt: skip
    assert all(_same(a, b) for a, b in zip(got, expected, strict=True)), (got, expected)


@settings(max_examples=120, deadline=None)
@given(chains())
def test_forward_from_parity_equals_the_numpy_formulation_bit_for_bit(
    chain: dict[str, np.ndarray],
) -> None:
    k, c, p = chain["strike"], chain["call_bid"], chain["put_ask"]

    assert _same(forward_from_parity(k, c, p, T, R), _parity_oracle(k, c, p))


@settings(max_examples=120, deadline=None)
@given(chains(), st.floats(24_000.0, 27_000.0))
def test_price_chain_equals_the_step_by_step_functions(
    chain: dict[str, np.ndarray], futures: float
) -> None:
    columns = np.array([chain[name] for name in CHAIN_COLUMNS]).reshape(len(CHAIN_COLUMNS), -1)

    priced = price_chain(columns, futures, T, R)

    mids = []
    for side in ("call", "put"):
        bid, ask = chain[f"{side}_bid"], chain[f"{side}_ask"]
        mids.append(np.where((bid > 0) & (ask > 0) & (ask >= bid), (bid + ask) / 2, np.nan))
    k = chain["strike"]
    forward = forward_from_parity(k, mids[0], mids[1], T, R)
    forward = forward if math.isfinite(forward) else futures
    n = k.size
    solved, greeks = implied_greeks_black76(
        np.arange(2 * n) < n, np.concatenate(mids), forward, np.tile(k, 2), T, R
    )
    measures = (solved.iv, greeks.delta, greeks.gamma, greeks.theta, greeks.vega, greeks.rho)
    expected_sides = np.stack(measures).reshape(6, 2, n).swapaxes(0, 1)
    assert priced.forward == forward
    assert np.array_equal(priced.sides, expected_sides, equal_nan=True)
    assert np.array_equal(priced.status, solved.status.reshape(2, n))
    assert np.array_equal(priced.quoted, np.isfinite(np.stack(mids)))
    sides = expected_sides
    expected_aggregates = chain_aggregates(
        k, forward, sides[0, 0], sides[1, 0], sides[0, 1], sides[1, 1],
        chain["call_open_interest"], chain["put_open_interest"],
        chain["call_volume"], chain["put_volume"],
    )  # fmt: skip
    assert all(
        _same(got, want)
        for got, want in zip(astuple(priced.aggregates), astuple(expected_aggregates), strict=True)
    )


def test_compiling_the_kernels_readies_the_chain_kernel_of_a_fresh_process() -> None:
    script = (
        "from optbus.pricing import compile_kernels\n"
        "from optbus.pricing._chain_kernel import price_chain_into\n"
        "before = len(price_chain_into.signatures)\n"
        "compile_kernels()\n"
        "print(before, len(price_chain_into.signatures))\n"
    )

    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)

    assert ran.stdout.split() == [b"0", b"1"]
