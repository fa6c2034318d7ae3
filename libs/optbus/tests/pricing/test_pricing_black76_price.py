"""Black-76 price: textbook values, parity and edge cases."""

import math

import numpy as np
import pytest

from optbus.pricing import black76_price


def test_hull_example_put_on_futures_matches_textbook() -> None:
    # Hull, Options Futures and Other Derivatives, Example 18.6 (8th ed.): F=20, K=20,
    # r=9%, sigma=25%, T=4/12 -> European put 1.12.
    price = black76_price(False, 20.0, 20.0, 4 / 12, 0.09, 0.25)

    assert float(price) == pytest.approx(1.1166, abs=5e-5)


def test_call_minus_put_equals_discounted_forward_minus_strike() -> None:
    forward, strike, t, r, vol = 22000.0, np.array([21000.0, 22000.0, 23500.0]), 0.05, 0.07, 0.18

    call = black76_price(True, forward, strike, t, r, vol)
    put = black76_price(False, forward, strike, t, r, vol)

    np.testing.assert_allclose(call - put, math.exp(-r * t) * (forward - strike), rtol=1e-12)


def test_zero_time_gives_intrinsic_value() -> None:
    price = black76_price([True, False, True], 100.0, [90.0, 90.0, 100.0], 0.0, 0.05, 0.2)

    np.testing.assert_array_equal(price, [10.0, 0.0, 0.0])


def test_invalid_inputs_give_nan_not_exceptions() -> None:
    price = black76_price(
        True, [100.0, -1.0, 100.0, np.nan], [100.0, 100.0, 0.0, 100.0], 0.1, 0.05, 0.2
    )

    assert np.isfinite(price[0])
    assert np.isnan(price[1:]).all()
