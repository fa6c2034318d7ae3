"""Textbook values from Hull, Options, Futures and Other Derivatives (quoted to his precision)."""

import numpy as np
import pytest

from optbus.pricing import black76_greeks, bsm_greeks, bsm_price


def test_hull_bsm_call_and_put_prices_match_example_15_6() -> None:
    # S=42, K=40, r=10%, sigma=20%, T=0.5: c = 4.76, p = 0.81.
    prices = bsm_price([True, False], 42.0, 40.0, 0.5, 0.10, 0.0, 0.20)

    np.testing.assert_allclose(prices, [4.76, 0.81], atol=5e-3)


def test_hull_bsm_greeks_match_the_chapter_19_running_example() -> None:
    # S=49, K=50, r=5%, sigma=20%, T=20 weeks: delta 0.522, gamma 0.066, theta -4.31/year
    # (-0.0118 per calendar day), vega 12.1 per 1.00 (0.121 per point), rho 8.91 (0.0891).
    g = bsm_greeks(True, 49.0, 50.0, 0.3846, 0.05, 0.0, 0.20)

    assert float(g.price) == pytest.approx(2.40, abs=5e-3)
    assert float(g.delta) == pytest.approx(0.522, abs=5e-4)
    assert float(g.gamma) == pytest.approx(0.066, abs=5e-4)
    assert float(g.theta) == pytest.approx(-4.31 / 365, abs=5e-5)
    assert float(g.vega) == pytest.approx(0.121, abs=5e-4)
    assert float(g.rho) == pytest.approx(0.0891, abs=5e-5)


def test_raw_greeks_are_trader_greeks_rescaled() -> None:
    trader = black76_greeks(False, 100.0, 95.0, 0.1, 0.07, 0.25)
    raw = black76_greeks(False, 100.0, 95.0, 0.1, 0.07, 0.25, raw=True)

    np.testing.assert_allclose(
        [trader.theta, trader.vega, trader.rho],
        [raw.theta / 365.0, raw.vega / 100.0, raw.rho / 100.0],
        rtol=1e-15,
    )


def test_greeks_at_expiry_are_the_limits_of_the_payoff() -> None:
    g = black76_greeks([True, False, True], 100.0, [90.0, 90.0, 100.0], 0.0, 0.05, 0.2)

    np.testing.assert_array_equal(g.price, [10.0, 0.0, 0.0])
    np.testing.assert_array_equal(g.delta, [1.0, 0.0, 0.5])  # half exactly at the money
    np.testing.assert_array_equal(g.gamma, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(g.vega, [0.0, 0.0, 0.0])
