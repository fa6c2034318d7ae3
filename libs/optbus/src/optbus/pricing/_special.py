"""Scalar special functions for the numba kernels: erfcx and the inverse normal CDF.

erfcx(y) = exp(y^2) erfc(y) lets the normalised Black function be written with a single
exponential and no cancellation in the tails (Jaeckel, "Let's Be Rational", 2013). The
coefficients are W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
approximations for the error function", Math. Comp. 1969, as in SPECFUN's CALERF), accurate to
about 1e-16 relative. The inverse normal CDF is Wichura's AS 241 (PPND16, 1988), about 1e-16.
"""

from __future__ import annotations

import math

import numpy as np

from optbus.pricing._jit import kernel

INV_SQRT_2 = 0.7071067811865475244008443621048490392848359376887
INV_SQRT_2PI = 0.3989422804014326779399460599343818684758586311649
SQRT_2_OVER_PI = 0.7978845608028653558798921198687637369517172623298
_INV_SQRT_PI = 0.56418958354775628695

# erf on |y| <= 0.46875
_A0, _A1, _A2, _A3, _A4 = (
    3.1611237438705656,
    113.864154151050156,
    377.485237685302021,
    3209.37758913846947,
    0.185777706184603153,
)
_B0, _B1, _B2, _B3 = (
    23.6012909523441209,
    244.024637934444173,
    1282.61652607737228,
    2844.23683343917062,
)
# erfcx on 0.46875 < y <= 4
_C = (
    0.564188496988670089,
    8.88314979438837594,
    66.1191906371416295,
    298.635138197400131,
    881.95222124176909,
    1712.04761263407058,
    2051.07837782607147,
    1230.33935479799725,
    2.15311535474403846e-8,
)
_D = (
    15.7449261107098347,
    117.693950891312499,
    537.181101862009858,
    1621.38957456669019,
    3290.79923573345963,
    4362.61909014324716,
    3439.36767414372164,
    1230.33935480374942,
)
# erfcx on y > 4, in 1/y^2
_P = (
    0.305326634961232344,
    0.360344899949804439,
    0.125781726111229246,
    0.0160837851487422766,
    6.58749161529837803e-4,
    0.0163153871373020978,
)
_Q = (
    2.56852019228982242,
    1.87295284992346047,
    0.527905102951428412,
    0.0605183413124413191,
    0.00233520497626869185,
)


@kernel
def erfcx_nonneg(y: float) -> float:
    """Return exp(y^2) erfc(y) for y >= 0 (callers arrange a non-negative argument)."""
    if y <= 0.46875:
        ysq = y * y
        num = (((_A4 * ysq + _A0) * ysq + _A1) * ysq + _A2) * ysq + _A3
        den = (((ysq + _B0) * ysq + _B1) * ysq + _B2) * ysq + _B3
        return math.exp(ysq) * (1.0 - y * num / den)
    if y <= 4.0:
        # Estrin's scheme instead of Horner's: the same polynomials with half the chain of
        # dependent multiply-adds, which is what the solver waits on.
        y2 = y * y
        y4 = y2 * y2
        num = (_C[7] + _C[6] * y + (_C[5] + _C[4] * y) * y2) + (
            _C[3] + _C[2] * y + (_C[1] + _C[0] * y) * y2
        ) * y4
        den = (_D[7] + _D[6] * y + (_D[5] + _D[4] * y) * y2) + (
            _D[3] + _D[2] * y + (_D[1] + _D[0] * y) * y2
        ) * y4
        return (num + _C[8] * y4 * y4) / (den + y4 * y4)
    if y >= 6.71e7:
        return _INV_SQRT_PI / y
    z = 1.0 / (y * y)
    num = _P[5] * z
    den = z
    for i in range(4):
        num = (num + _P[i]) * z
        den = (den + _Q[i]) * z
    return (_INV_SQRT_PI - z * (num + _P[4]) / (den + _Q[4])) / y


@kernel
def norm_cdf(z: float) -> float:
    """Standard normal CDF, accurate to relative 1e-16 in the lower tail (libm erfc)."""
    return 0.5 * math.erfc(-z * INV_SQRT_2)


_IA = (
    3.3871328727963666080e0,
    1.3314166789178437745e2,
    1.9715909503065514427e3,
    1.3731693765509461125e4,
    4.5921953931549871457e4,
    6.7265770927008700853e4,
    3.3430575583588128105e4,
    2.5090809287301226727e3,
)
_IB = (
    1.0,
    4.2313330701600911252e1,
    6.8718700749205790830e2,
    5.3941960214247511077e3,
    2.1213794301586595867e4,
    3.9307895800092710610e4,
    2.8729085735721942674e4,
    5.2264952788528545610e3,
)
_IC = (
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
)
_ID = (
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
)
_IE = (
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_IF = (
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
)


@kernel
def _ratio7(r: float, num: tuple[float, ...], den: tuple[float, ...]) -> float:
    """Evaluate the degree-7 rational function num(r)/den(r) by Horner's rule."""
    n = num[7]
    d = den[7]
    for i in range(6, -1, -1):
        n = n * r + num[i]
        d = d * r + den[i]
    return n / d


@kernel
def inverse_norm_cdf(u: float) -> float:
    """Quantile of the standard normal (AS 241); -inf at 0 and +inf at 1."""
    if u <= 0.0:
        return -math.inf
    if u >= 1.0:
        return math.inf
    q = u - 0.5
    if abs(q) <= 0.425:
        return q * _ratio7(0.180625 - q * q, _IA, _IB)
    r = math.sqrt(-math.log(u if q < 0.0 else 1.0 - u))
    ret = _ratio7(r - 1.6, _IC, _ID) if r < 5.0 else _ratio7(r - 5.0, _IE, _IF)
    return -ret if q < 0.0 else ret


# log2(1 + t) on [0, 1) by the quintic Hermite interpolant of its values and first two
# derivatives at the ends: 4e-4 off, but increasing, and continuous with both derivatives
# from one octave to the next (a cubic, continuous with its slope only, put a kink in the
# table's curvature at each octave: half again as many guesses needed a second step).
_L1 = 1.4426950408889634  # 1 / ln 2
_L2 = -0.7213475204444817
_L3 = 0.44214535411061745
_L4 = -0.2123758308881251
_L5 = 0.04888295633302594
# 2^f on [0, 1] by a degree-5 fit on Chebyshev nodes: 1.1e-7 relative.
_E = (
    0.9999999,
    0.69315462,
    0.24014077,
    0.05586328,
    0.00894621,
    0.00189511,
)
_MANTISSA = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000


@kernel
def rough_log2(y: float) -> float:
    """An increasing, twice continuously differentiable stand-in for log2(y), 4e-4 off, for
    a normal y > 0: the exponent from the bits and a quintic in the mantissa. Fit to place a
    table's nodes, not to compute with (no libm call, no branch)."""
    bits = np.float64(y).view(np.int64)
    t = np.int64((bits & _MANTISSA) | _ONE_BITS).view(np.float64) - 1.0
    return float((bits >> 52) - 1023) + t * (_L1 + t * (_L2 + t * (_L3 + t * (_L4 + _L5 * t))))


@kernel
def rough_exp2(y: float) -> float:
    """2^y to 1.1e-7 relative, for -1000 < y < 1000: a guess's accuracy, not a result's."""
    n = math.floor(y)
    f = y - n
    p = _E[0] + f * (_E[1] + f * (_E[2] + f * (_E[3] + f * (_E[4] + f * _E[5]))))
    return p * np.int64((int(n) + 1023) << 52).view(np.float64)
