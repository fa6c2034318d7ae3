"""Prices and Greeks agree with QuantLib's BlackCalculator over the ranges of issue 3.

Tolerance: relative 1e-9, absolute 1e-12 in the natural unit of each measure (the underlying
for price, theta, vega and rho; 1 for delta; 1/underlying for gamma), so that deep
out-of-the-money values that are tiny compared with the underlying compare absolutely.

QuantLib computes theta as -(ln(DF) V + ln(F/S) S delta + variance S^2 gamma / 2) / T: the
rounding of ln(DF) and ln(F/S) (about one ulp each) is divided by T, which at one minute to
expiry is 2e-6 years. Its theta is therefore compared with that rounding allowance added.
"""

import math

import numpy as np
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

from optbus.pricing import black76_greeks, bsm_greeks

ONE_MINUTE = 1.0 / (365.0 * 24 * 60)
RTOL, ATOL = 1e-9, 1e-12
EPS = np.finfo(float).eps

underlyings = st.floats(1.0, 100_000.0)
moneyness = st.floats(0.5, 1.5)
expiries = st.floats(ONE_MINUTE, 2.0)
vols = st.floats(0.01, 3.0)
rates = st.floats(-0.01, 0.15)
yields = st.floats(0.0, 0.10)


def _assert_close(ours: float, reference: float, unit: float, allowance: float = 0.0) -> None:
    tolerance = RTOL * abs(reference) + ATOL * unit + allowance
    assert abs(ours - reference) <= tolerance, (ours, reference)


def _quantlib_theta_rounding(price: float, underlying: float, delta: float, t: float) -> float:
    return 2.0 * EPS * (abs(price) + abs(underlying * delta)) / t


def _calculator(
    is_call: bool, strike: float, forward: float, sd: float, df: float
) -> ql.BlackCalculator:
    kind = ql.Option.Call if is_call else ql.Option.Put
    return ql.BlackCalculator(ql.PlainVanillaPayoff(kind, strike), forward, sd, df)


@settings(max_examples=400, deadline=None)
@given(st.booleans(), underlyings, moneyness, expiries, rates, vols)
def test_black76_price_and_greeks_match_quantlib(
    is_call: bool, forward: float, m: float, t: float, r: float, vol: float
) -> None:
    strike = m * forward
    ql_calc = _calculator(is_call, strike, forward, vol * math.sqrt(t), math.exp(-r * t))

    g = black76_greeks(is_call, forward, strike, t, r, vol, raw=True)

    _assert_close(float(g.price), ql_calc.value(), forward)
    _assert_close(float(g.delta), ql_calc.deltaForward(), 1.0)
    _assert_close(float(g.gamma), ql_calc.gammaForward(), 1.0 / forward)
    allowance = _quantlib_theta_rounding(ql_calc.value(), forward, ql_calc.deltaForward(), t)
    _assert_close(float(g.theta), ql_calc.theta(forward, t), forward, allowance)
    _assert_close(float(g.vega), ql_calc.vega(t), forward)
    _assert_close(float(g.rho), ql_calc.rho(t) + ql_calc.dividendRho(t), forward)


@settings(max_examples=400, deadline=None)
@given(st.booleans(), underlyings, moneyness, expiries, rates, yields, vols)
def test_bsm_price_and_greeks_match_quantlib(
    is_call: bool, spot: float, m: float, t: float, r: float, q: float, vol: float
) -> None:
    strike = m * spot
    forward = spot * math.exp((r - q) * t)
    ql_calc = _calculator(is_call, strike, forward, vol * math.sqrt(t), math.exp(-r * t))

    g = bsm_greeks(is_call, spot, strike, t, r, q, vol, raw=True)

    _assert_close(float(g.price), ql_calc.value(), spot)
    _assert_close(float(g.delta), ql_calc.delta(spot), 1.0)
    _assert_close(float(g.gamma), ql_calc.gamma(spot), 1.0 / spot)
    allowance = _quantlib_theta_rounding(ql_calc.value(), spot, ql_calc.delta(spot), t)
    _assert_close(float(g.theta), ql_calc.theta(spot, t), spot, allowance)
    _assert_close(float(g.vega), ql_calc.vega(t), spot)
    _assert_close(float(g.rho), ql_calc.rho(t), spot)


def test_vectorised_greeks_equal_elementwise_greeks() -> None:
    strikes = np.array([90.0, 100.0, 110.0])

    batch = black76_greeks(True, 100.0, strikes, 0.25, 0.05, 0.2)
    singles = [black76_greeks(True, 100.0, k, 0.25, 0.05, 0.2) for k in strikes]

    np.testing.assert_array_equal(batch.delta, [float(s.delta) for s in singles])


def test_black76_theta_of_deep_in_the_money_option_at_one_minute_is_rate_times_price() -> None:
    # With no time value left, V = DF (F - K) and -dV/dT = r V exactly.
    g = black76_greeks(True, 1.0, 0.5, ONE_MINUTE, 0.0078125, 1.0, raw=True)

    assert float(g.theta) == float(0.0078125 * g.price)
