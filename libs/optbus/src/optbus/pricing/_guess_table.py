"""A tabulated initial guess for the normalised implied volatility: one Householder step.

Jaeckel's rational-cubic guess is within about 1e-2 of the root, so it needs two
Householder steps. This table of log2(s) over (L(|x|), v(beta/b_max)), filled once per
process by the exact solver itself, guesses within about 1e-4 (bilinear interpolation on a
256 x 256 grid, 512 KiB), after which one quartic step reaches 1e-15 and the whole solve
costs about two thirds. Outside the table, or where it has no value, the full method runs instead.

The axes only place the nodes, so they need to be smooth and increasing, not exact: L is
_special.rough_log2 (the float's exponent and a quintic in its mantissa, no libm call), and the
second axis, v(u) = sqrt(-2 ln(1 - u)) - sqrt(-2 ln u) with ln taken as L ln 2, has the shape of
the inverse normal N^-1(u) (it tends to -sqrt(-2 ln u) in the lower tail and to
sqrt(-2 ln(1 - u)) in the upper) without N^-1's rational function and the branch into its tails
that a random batch mispredicts. The table is built through the same functions, so the nodes
are where the lookup expects them; the guess comes back through rough_exp2 (1e-7 relative).
With three libm logarithms and an exponential instead, a solve took about 10 ns more (of 135).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from optbus.pricing._jit import kernel
from optbus.pricing._lbr import LOWER, MIDDLE, UPPER, iterate, normalised_implied_vol
from optbus.pricing._special import norm_cdf, rough_exp2, rough_log2

A_MIN, A_MAX, N_A = -23.0, 2.2, 256  # |x| = |ln(F/K)| from 1.2e-7 to 4.6 (L of those)
Y_MIN, Y_MAX, N_Y = -9.32, 4.55, 256  # beta/b_max from 1e-19 to 0.99997 (v of those)
_A_STEP = (A_MAX - A_MIN) / (N_A - 1)
_Y_STEP = (Y_MAX - Y_MIN) / (N_Y - 1)
_A_SCALE, _Y_SCALE = 1.0 / _A_STEP, 1.0 / _Y_STEP
# The error after a Householder step of relative size d is of order d^4: after a step of at
# most 2e-4 it is of order 1e-15, so no further step is taken.
STEP_TOLERANCE = 2e-4
_DBL_MAX = 1.7976931348623157e308
_MINUS_2_LN_2 = -1.3862943611198906


@kernel
def _axis(u: float, one_minus_u: float) -> float:
    """v(u), the second axis, from u = beta/b_max and 1 - u."""
    return math.sqrt(_MINUS_2_LN_2 * rough_log2(one_minus_u)) - math.sqrt(
        _MINUS_2_LN_2 * rough_log2(u)
    )


@kernel
def _node_abs_x(a: float) -> float:
    """|x| with L(|x|) = a: L is its exponent plus a quintic in the mantissa that goes from 0
    to 1 increasingly, so a bisection in the mantissa finds it."""
    exponent = math.floor(a)
    low, high = 1.0, 2.0
    for _ in range(64):
        mid = 0.5 * (low + high)
        if rough_log2(mid) < a - exponent:
            low = mid
        else:
            high = mid
    return math.ldexp(0.5 * (low + high), int(exponent))


@kernel
def _node_quantile(v: float) -> float:
    """z with v(N(z)) = v, by bisection (v increases with z): u = N(z) and 1 - u = N(-z)
    keep their digits in both tails."""
    low, high = -40.0, 40.0
    for _ in range(64):  # 80 / 2^64: below an ulp of z
        mid = 0.5 * (low + high)
        if _axis(norm_cdf(mid), norm_cdf(-mid)) < v:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


@kernel
def build_table() -> npt.NDArray[np.float64]:
    """log2(s) at every grid node, solved exactly; NaN where beta underflows."""
    table = np.full((N_A, N_Y), np.nan)
    quantiles = np.array([_node_quantile(Y_MIN + _Y_STEP * j) for j in range(N_Y)])
    for i in range(N_A):
        x = -_node_abs_x(A_MIN + _A_STEP * i)
        b_max = math.exp(0.5 * x)
        for j in range(N_Y):
            beta = norm_cdf(quantiles[j]) * b_max
            if 1e-290 < beta < b_max:
                table[i, j] = math.log2(normalised_implied_vol(beta, x, b_max))
    return table


@kernel
def table_guess(table: npt.NDArray[np.float64], beta: float, x: float, b_max: float) -> float:
    """Bilinear interpolation of the table; NaN outside it."""
    u = (rough_log2(-x) - A_MIN) * _A_SCALE if x < 0.0 else 0.0
    inv_b_max = 1.0 / b_max
    v = (_axis(beta * inv_b_max, (b_max - beta) * inv_b_max) - Y_MIN) * _Y_SCALE
    if not (0.0 <= v < N_Y - 1 and u < N_A - 1):
        return math.nan
    u = max(u, 0.0)  # |x| below the table behaves as its smallest for a guess
    i, j = int(u), int(v)
    fu, fv = u - i, v - j
    low = table[i, j] + fu * (table[i + 1, j] - table[i, j])
    high = table[i, j + 1] + fu * (table[i + 1, j + 1] - table[i, j + 1])
    return rough_exp2(low + fv * (high - low))


@kernel
def step_mode(s: float, beta: float, x: float, b_max: float) -> int:
    """The branch objective for a step from the guess s: chosen by where the guess lies, as
    the full method chooses by where beta lies. ln(b) below the inflection point, ln(b_max - b)
    high above it, b itself between."""
    if s < math.sqrt(-2.0 * x):
        return LOWER
    if beta > 0.5 * b_max:
        return UPPER
    return MIDDLE


@kernel
def refine(s: float, beta: float, x: float, b_max: float, mode: int) -> float:
    """Total volatility from the tabulated guess s: one step, two where the guess was poor."""
    return iterate(x, beta, b_max, s, 0.0, _DBL_MAX, mode, STEP_TOLERANCE)


@kernel
def fast_implied_vol(table: npt.NDArray[np.float64], beta: float, x: float, b_max: float) -> float:
    """Total volatility s with b(x, s) = beta: tabulated guess and one step where possible."""
    s = table_guess(table, beta, x, b_max)
    if not (s > 0.0 and math.isfinite(s)):
        return normalised_implied_vol(beta, x, b_max)
    return refine(s, beta, x, b_max, step_mode(s, beta, x, b_max))
