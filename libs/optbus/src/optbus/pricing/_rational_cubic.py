"""Shape-preserving rational cubic interpolation (Delbourgo and Gregory, 1985).

Jaeckel's "Let's Be Rational" interpolates the inverse of the normalised Black function with
these curves to get an initial guess within a few 1e-3 of the root. Its published control
parameter choice is followed: fit the second derivative at one end, then raise the parameter to
the minimum that keeps the curve monotone and convex (or concave) like the data.
"""

from __future__ import annotations

import math

from optbus.pricing._jit import kernel

_DBL_EPSILON = 2.220446049250313e-16
_DBL_MIN = 2.2250738585072014e-308
_DBL_MAX = 1.7976931348623157e308
_R_MIN = -(1.0 - math.sqrt(_DBL_EPSILON))
_R_MAX = 2.0 / (_DBL_EPSILON * _DBL_EPSILON)  # at or above this the curve is a straight line


@kernel
def rational_cubic(
    x: float, x_l: float, x_r: float, y_l: float, y_r: float, d_l: float, d_r: float, r: float
) -> float:
    """Value at x of the rational cubic through (x_l, y_l), (x_r, y_r) with end slopes d_l, d_r."""
    h = x_r - x_l
    if abs(h) <= 0.0:
        return 0.5 * (y_l + y_r)
    t = (x - x_l) / h
    if r >= _R_MAX:
        return y_r * t + y_l * (1.0 - t)
    omt = 1.0 - t
    t2 = t * t
    omt2 = omt * omt
    numerator = (
        y_r * t2 * t
        + (r * y_r - h * d_r) * t2 * omt
        + (r * y_l + h * d_l) * t * omt2
        + y_l * omt2 * omt
    )
    return numerator / (1.0 + (r - 3.0) * t * omt)


@kernel
def _minimum_control(d_l: float, d_r: float, slope: float, prefer_shape: bool) -> float:
    """Smallest control parameter that preserves monotonicity and convexity of the data."""
    monotonic = d_l * slope >= 0.0 and d_r * slope >= 0.0
    convex = d_l <= slope <= d_r
    concave = d_l >= slope >= d_r
    if not monotonic and not convex and not concave:
        return _R_MIN
    r1 = -_DBL_MAX
    r2 = -_DBL_MAX
    if monotonic:
        if abs(slope) >= _DBL_MIN:
            r1 = (d_r + d_l) / slope
        elif prefer_shape:
            r1 = _R_MAX
    if convex or concave:
        s_m_d_l = slope - d_l
        d_r_m_s = d_r - slope
        if abs(s_m_d_l) >= _DBL_MIN and abs(d_r_m_s) >= _DBL_MIN:
            d_r_m_d_l = d_r - d_l
            r2 = max(abs(d_r_m_d_l / d_r_m_s), abs(d_r_m_d_l / s_m_d_l))
        elif prefer_shape:
            r2 = _R_MAX
    elif monotonic and prefer_shape:
        r2 = _R_MAX
    return max(_R_MIN, max(r1, r2))


@kernel
def _control_from_curvature(numerator: float, denominator: float) -> float:
    """Control parameter numerator/denominator, saturated where the denominator vanishes."""
    if abs(numerator) < _DBL_MIN:
        return 0.0
    if abs(denominator) < _DBL_MIN:
        return _R_MAX if numerator > 0.0 else _R_MIN
    return numerator / denominator


@kernel
def control_fit_left(
    x_l: float,
    x_r: float,
    y_l: float,
    y_r: float,
    d_l: float,
    d_r: float,
    second_l: float,
    prefer_shape: bool,
) -> float:
    """Control parameter matching the second derivative at the left end, shape preserved."""
    h = x_r - x_l
    slope = (y_r - y_l) / h
    r = _control_from_curvature(0.5 * h * second_l + (d_r - d_l), slope - d_l)
    return max(r, _minimum_control(d_l, d_r, slope, prefer_shape))


@kernel
def control_fit_right(
    x_l: float,
    x_r: float,
    y_l: float,
    y_r: float,
    d_l: float,
    d_r: float,
    second_r: float,
    prefer_shape: bool,
) -> float:
    """Control parameter matching the second derivative at the right end, shape preserved."""
    h = x_r - x_l
    slope = (y_r - y_l) / h
    r = _control_from_curvature(0.5 * h * second_r + (d_r - d_l), d_r - slope)
    return max(r, _minimum_control(d_l, d_r, slope, prefer_shape))
