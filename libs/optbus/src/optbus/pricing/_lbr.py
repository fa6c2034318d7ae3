"""Normalised implied volatility after Peter Jaeckel's "Let's Be Rational" (Wilmott, 2015).

The problem: given x = ln(F/K) <= 0 (an out-of-the-money call, to which every option maps) and
a normalised price beta = time value / (DF sqrt(F K)) in (0, exp(x/2)), find the total
volatility s = sigma sqrt(T) with b(x, s) = beta, where

    b(x, s) = exp(x/2) N(x/s + s/2) - exp(-x/2) N(x/s - s/2).

Jaeckel's method: split the s axis at the inflection point s_c = sqrt(-2x) and its tangents into
four branches, interpolate the inverse function with shape-preserving rational cubics (on a
transformed axis in the two outer branches) for an initial guess, then apply Householder steps
of order three to an objective that is nearly linear on the branch: 1/ln(b) below, b in the
middle, ln(b_max - b) above. Two steps reach machine precision.

This implementation follows the published algorithm (and the structure of Jaeckel's reference
code, copyright 2013-2014 Peter Jaeckel, freely granted with this notice). It differs in how b
is evaluated: with erfcx, exp(-(h^2+t^2)/2) factors out of both terms, so

    b            = E/2 [erfcx(-(h+t)/sqrt2) - erfcx((t-h)/sqrt2)]     where h + t <= 0,
    b_max - b    = E/2 [erfcx((h+t)/sqrt2) + erfcx((t-h)/sqrt2)]      where h + t > 0,
    b' = db/ds   = E / sqrt(2 pi),

with h = x/s, t = s/2 and E = exp(-(h^2+t^2)/2). Both erfcx arguments are non-negative, the
branch objectives ln(b) and ln(b_max - b) need no exponential at all, and the value at the
inflection point is closed-form: b_c = exp(x/2) (1 - erfcx(sqrt(-x))) / 2.
"""

from __future__ import annotations

import math

from optbus.pricing._jit import kernel
from optbus.pricing._rational_cubic import control_fit_left, control_fit_right, rational_cubic
from optbus.pricing._special import (
    INV_SQRT_2,
    INV_SQRT_2PI,
    SQRT_2_OVER_PI,
    erfcx_nonneg,
    inverse_norm_cdf,
    norm_cdf,
)

LOWER, MIDDLE, UPPER = 0, 1, 2
MAX_ITERATIONS = 10  # two suffice in practice; the rest is a bisection safety net
# A Householder step of order 3 leaves a relative error of order step^4: a step below
# 1e-5 relative leaves nothing representable, so no further step is taken.
_STEP_TOLERANCE = 1e-5
_DBL_EPSILON = 2.220446049250313e-16
_DBL_MIN = 2.2250738585072014e-308
_DBL_MAX = 1.7976931348623157e308
_SQRT_DBL_MAX = 1.3407807929942596e154
_SQRT_THREE = 1.7320508075688772935274463415058723669428052538104
_SQRT_ONE_OVER_THREE = 0.57735026918962576450914878050195745564760175127013
_TWO_PI = 6.283185307179586476925286766559005768394338798750
_TWO_PI_OVER_SQRT_27 = 1.2091995761561452337293855050947704881893774987284
_PI_OVER_SIX = 0.52359877559829887307710723054658381403286156656252
_SQRT_PI_OVER_TWO = 1.2533141373155002512078826424055226265034933703050
_SIXTH = 1.0 / 6.0


@kernel
def _tails(x: float, s: float) -> tuple[float, float, float, float]:
    """h + t, (h^2 + t^2)/2 and the two erfcx terms of b, for x <= 0 and s > 0.

    The terms are erfcx(|h + t|/sqrt2) and erfcx((t - h)/sqrt2); see the module docstring.
    """
    h = x / s
    t = 0.5 * s
    h_plus_t = h + t
    lead = erfcx_nonneg(abs(h_plus_t) * INV_SQRT_2)
    tail = erfcx_nonneg((t - h) * INV_SQRT_2)
    return h_plus_t, 0.5 * (h * h + t * t), lead, tail


@kernel
def normalised_black_and_vega(x: float, s: float, b_max: float) -> tuple[float, float]:
    """b(x, s) and db/ds for x <= 0, with b_max = exp(x/2)."""
    if not s > 0.0:
        return 0.0, 0.0
    h_plus_t, half_sq, lead, tail = _tails(x, s)
    e = math.exp(-half_sq)
    b = 0.5 * e * (lead - tail) if h_plus_t <= 0.0 else b_max - 0.5 * e * (lead + tail)
    return b, INV_SQRT_2PI * e


@kernel
def _householder_step(newton: float, halley: float, hh3: float) -> float:
    """Step of the order-3 Householder method from the ratios -g/g', g''/g' and g'''/g'."""
    return (
        newton * (1.0 + 0.5 * halley * newton) / (1.0 + newton * (halley + hh3 * newton * _SIXTH))
    )


@kernel
def _ratios(x: float, s: float) -> tuple[float, float]:
    """b''/b' and b'''/b', which depend on x and s only."""
    # Multiplying by 1/s instead of dividing changes the step by an ulp, not the root.
    inv_s = 1.0 / s
    h_over_s = x * inv_s * inv_s
    b_halley = x * h_over_s * inv_s - 0.25 * s
    return b_halley, b_halley * b_halley - 3.0 * h_over_s * h_over_s - 0.25


@kernel
def _lower_step(x: float, s: float, b_max: float, ln_beta: float) -> tuple[float, float]:
    """Step for g = 1/ln(b) - 1/ln(beta), and ln(b) - ln(beta) (positive when b > beta)."""
    h_plus_t, half_sq, lead, tail = _tails(x, s)
    if h_plus_t <= 0.0:
        # b = E (lead - tail) / 2: ln(b) and b'/b need no exponential.
        delta = lead - tail
        if not delta > 0.0:
            return math.nan, -1.0
        ln_b = math.log(0.5 * delta) - half_sq
        bpob = SQRT_2_OVER_PI / delta
    else:
        b, bp = normalised_black_and_vega(x, s, b_max)
        ln_b = math.log(b)
        bpob = bp / b
    if not ln_b < 0.0:
        return math.nan, ln_b - ln_beta
    b_halley, b_hh3 = _ratios(x, s)
    inv_ln_b = 1.0 / ln_b
    f = 1.0 + 2.0 * inv_ln_b
    newton = (ln_beta - ln_b) * ln_b / (ln_beta * bpob)
    halley = b_halley - bpob * f
    hh3 = b_hh3 + 2.0 * bpob * bpob * (1.0 + 3.0 * inv_ln_b * (1.0 + inv_ln_b))
    hh3 -= 3.0 * b_halley * bpob * f
    return _householder_step(newton, halley, hh3), ln_b - ln_beta


@kernel
def _upper_step(x: float, s: float, b_max: float, ln_gap_beta: float) -> tuple[float, float]:
    """Step for g = ln(b_max - beta) - ln(b_max - b), and g (positive when b > beta)."""
    h_plus_t, half_sq, lead, tail = _tails(x, s)
    if h_plus_t > 0.0:
        # b_max - b = E (lead + tail) / 2: no exponential needed.
        total = lead + tail
        g = ln_gap_beta - (math.log(0.5 * total) - half_sq)
        gp = SQRT_2_OVER_PI / total
    else:
        b, bp = normalised_black_and_vega(x, s, b_max)
        g = ln_gap_beta - math.log(b_max - b)
        gp = bp / (b_max - b)
    if not gp > _DBL_MIN:
        return math.nan, g
    b_halley, b_hh3 = _ratios(x, s)
    hh3 = b_hh3 + gp * (2.0 * gp + 3.0 * b_halley)
    return _householder_step(-g / gp, b_halley + gp, hh3), g


@kernel
def _middle_step(x: float, s: float, b_max: float, beta: float) -> tuple[float, float]:
    """Step for g = b - beta, and g."""
    b, bp = normalised_black_and_vega(x, s, b_max)
    if not bp > _DBL_MIN:
        return math.nan, b - beta
    b_halley, b_hh3 = _ratios(x, s)
    return _householder_step((beta - b) / bp, b_halley, b_hh3), b - beta


@kernel
def iterate(
    x: float,
    beta: float,
    b_max: float,
    s: float,
    s_left: float,
    s_right: float,
    mode: int,
    tolerance: float = _STEP_TOLERANCE,
) -> float:
    """Householder iterations from s, kept inside the bracket (s_left, s_right) by bisection."""
    if mode == LOWER:
        target = math.log(beta)
    elif mode == UPPER:
        target = math.log(b_max - beta)
    else:
        target = beta
    ds = 0.0
    reversals = 0
    for iteration in range(MAX_ITERATIONS):
        if iteration > 0 and (reversals == 3 or not s_left < s < s_right):
            s = 0.5 * (s_left + s_right)
            if s_right - s_left <= _DBL_EPSILON * s:
                break
            reversals = 0
            ds = 0.0
        previous = ds
        if mode == LOWER:
            ds, excess = _lower_step(x, s, b_max, target)
        elif mode == UPPER:
            ds, excess = _upper_step(x, s, b_max, target)
        else:
            ds, excess = _middle_step(x, s, b_max, target)
        if excess > 0.0 and s < s_right:
            s_right = s
        elif excess < 0.0 and s > s_left:
            s_left = s
        if not math.isfinite(ds):
            ds = 0.5 * (s_left + s_right) - s
        ds = max(-0.5 * s, ds)
        if ds * previous < 0.0:
            reversals += 1
        s += ds
        if abs(ds) <= tolerance * s:
            break
    return s


@kernel
def _lower_map_guess(x: float, beta: float, s_l: float, b_l: float) -> float:
    """Initial guess below s_l, through Jaeckel's f_lower map and its rational cubic."""
    # Jaeckel's map uses N(-z) and n(z); with N(-z) = erfcx(z/sqrt2) exp(-z^2/2) / 2 the map
    # and its two derivatives need two exponentials instead of four transcendentals.
    ax = abs(x)
    z = _SQRT_ONE_OVER_THREE * ax / s_l
    y = z * z
    s2 = s_l * s_l
    scaled = erfcx_nonneg(z * INV_SQRT_2)  # N(-z) = scaled exp(-y/2) / 2
    cdf_over_pdf = _SQRT_PI_OVER_TWO * scaled
    decay = math.exp(-1.5 * y)  # (exp(-y/2))^3
    growth = math.exp(0.125 * s2)
    curvature = 8.0 * _SQRT_THREE * s_l * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * cdf_over_pdf
    fpp = _PI_OVER_SIX * y / (s2 * s_l) * 0.5 * scaled * curvature * growth * growth / decay
    fp = _TWO_PI * y * 0.25 * scaled * scaled * growth
    f_l = _TWO_PI_OVER_SQRT_27 * ax * 0.125 * scaled * scaled * scaled * decay
    r = control_fit_right(0.0, b_l, 0.0, f_l, 1.0, fp, fpp, True)
    f = rational_cubic(beta, 0.0, b_l, 0.0, f_l, 1.0, fp, r)
    if not f > 0.0:
        # Round-off at extreme |x|: quadratic through f(0) = 0, f'(0) = 1 and f(b_l).
        u = beta / b_l
        f = (f_l * u + b_l * (1.0 - u)) * u
    if not f > 0.0:
        return 0.0
    return abs(
        x / (_SQRT_THREE * inverse_norm_cdf((f / (_TWO_PI_OVER_SQRT_27 * ax)) ** (1.0 / 3.0)))
    )


@kernel
def _upper_map_guess(x: float, beta: float, b_max: float, s_h: float, b_h: float) -> float:
    """Initial guess above s_h, through Jaeckel's f_upper map and its rational cubic."""
    f_h = norm_cdf(-0.5 * s_h)
    fp = -0.5
    fpp = 0.0
    if x != 0.0:
        w = (x / s_h) ** 2
        fp = -0.5 * math.exp(0.5 * w)
        fpp = _SQRT_PI_OVER_TWO * math.exp(w + 0.125 * s_h * s_h) * w / s_h
    f = -1.0
    if abs(fpp) < _SQRT_DBL_MAX:
        r = control_fit_left(b_h, b_max, f_h, 0.0, fp, -0.5, fpp, True)
        f = rational_cubic(beta, b_h, b_max, f_h, 0.0, fp, -0.5, r)
    if f <= 0.0:
        # Quadratic through f(b_h), f(b_max) = 0 and f'(b_max) = -1/2.
        h = b_max - b_h
        u = (beta - b_h) / h
        f = (f_h * (1.0 - u) + 0.5 * h * u) * (1.0 - u)
    return -2.0 * inverse_norm_cdf(f)


@kernel
def normalised_implied_vol(beta: float, x: float, b_max: float) -> float:
    """Total volatility s with b(x, s) = beta, for x <= 0 and 0 < beta < b_max = exp(x/2)."""
    s_c = math.sqrt(-2.0 * x)
    b_c = 0.5 * b_max * (1.0 - erfcx_nonneg(math.sqrt(-x)))
    v_c = INV_SQRT_2PI * b_max
    if beta < b_c:
        s_l = s_c - b_c / v_c
        if not s_l > 0.0:
            # |x| so small that s_l rounds away: b is nearly linear below s_c.
            return iterate(x, beta, b_max, s_c * beta / b_c, 0.0, s_c, MIDDLE)
        b_l, v_l = normalised_black_and_vega(x, s_l, b_max)
        if beta < b_l:
            s = _lower_map_guess(x, beta, s_l, b_l)
            return iterate(x, beta, b_max, s, 0.0, s_l, LOWER)
        r = control_fit_right(b_l, b_c, s_l, s_c, 1.0 / v_l, 1.0 / v_c, 0.0, False)
        s = rational_cubic(beta, b_l, b_c, s_l, s_c, 1.0 / v_l, 1.0 / v_c, r)
        return iterate(x, beta, b_max, s, s_l, s_c, MIDDLE)
    s_h = s_c + (b_max - b_c) / v_c if v_c > _DBL_MIN else s_c
    b_h, v_h = normalised_black_and_vega(x, s_h, b_max)
    if beta <= b_h:
        r = control_fit_left(b_c, b_h, s_c, s_h, 1.0 / v_c, 1.0 / v_h, 0.0, False)
        s = rational_cubic(beta, b_c, b_h, s_c, s_h, 1.0 / v_c, 1.0 / v_h, r)
        return iterate(x, beta, b_max, s, s_c, s_h, MIDDLE)
    s = _upper_map_guess(x, beta, b_max, s_h, b_h)
    # Below b_max/2 the plain objective b - beta is better conditioned than ln(b_max - b).
    mode = UPPER if beta > 0.5 * b_max else MIDDLE
    return iterate(x, beta, b_max, s, s_h, _DBL_MAX, mode)
