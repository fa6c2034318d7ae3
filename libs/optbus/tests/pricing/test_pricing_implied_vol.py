"""Implied volatility: round trips on a million options, reason codes, robustness."""

import math

import numpy as np
import pytest

from optbus.pricing import (
    IV_STATUS_NAMES,
    IvStatus,
    black76_greeks,
    black76_price,
    bsm_price,
    implied_greeks_black76,
    implied_vol_black76,
    implied_vol_bsm,
)

ONE_MINUTE = 1.0 / (365.0 * 24 * 60)
TICK = 0.05


def _random_chain(n: int, seed: int) -> dict[str, np.ndarray]:
    """Options over the ranges of issue 3, underlyings from 50 to 60,000 rupees."""
    rng = np.random.default_rng(seed)
    forward = np.exp(rng.uniform(math.log(50.0), math.log(60_000.0), n))
    return {
        "is_call": rng.random(n) < 0.5,
        "forward": forward,
        "strike": forward * rng.uniform(0.5, 1.5, n),
        "t": np.exp(rng.uniform(math.log(ONE_MINUTE), math.log(2.0), n)),
        "rate": rng.uniform(-0.01, 0.15, n),
        "vol": rng.uniform(0.01, 3.0, n),
    }


def test_round_trip_recovers_vol_to_1e_10_on_a_million_options_with_a_tick_of_time_value() -> None:
    c = _random_chain(2_400_000, seed=3)
    price = black76_price(c["is_call"], c["forward"], c["strike"], c["t"], c["rate"], c["vol"])
    df = np.exp(-c["rate"] * c["t"])
    payoff = np.where(c["is_call"], c["forward"] - c["strike"], c["strike"] - c["forward"])
    priced = price - df * np.maximum(payoff, 0.0) >= TICK

    result = implied_vol_black76(c["is_call"], price, c["forward"], c["strike"], c["t"], c["rate"])

    assert priced.sum() >= 1_000_000
    assert (result.status[priced] == IvStatus.OK).all()
    assert np.max(np.abs(result.iv[priced] - c["vol"][priced])) <= 1e-10


def test_bsm_round_trip_recovers_vol_wherever_there_is_a_tick_of_time_value() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    spot, strike = 100.0, rng.uniform(60.0, 140.0, n)
    t, vol = rng.uniform(0.01, 2.0, n), rng.uniform(0.05, 1.5, n)
    is_call = rng.random(n) < 0.5
    price = bsm_price(is_call, spot, strike, t, 0.07, 0.02, vol)
    intrinsic = bsm_price(is_call, spot, strike, t, 0.07, 0.02, 0.0)

    result = implied_vol_bsm(is_call, price, spot, strike, t, 0.07, 0.02)

    priced = price - intrinsic >= TICK
    assert (result.status[priced] == IvStatus.OK).all()
    np.testing.assert_allclose(result.iv[priced], vol[priced], rtol=0, atol=1e-10)


def test_in_the_money_option_maps_to_the_same_vol_as_its_out_of_the_money_twin() -> None:
    call = black76_price(True, 24000.0, 23000.0, 0.05, 0.065, 0.18)
    put = black76_price(False, 24000.0, 23000.0, 0.05, 0.065, 0.18)

    result = implied_vol_black76([True, False], [call, put], 24000.0, 23000.0, 0.05, 0.065)

    np.testing.assert_allclose(result.iv, [0.18, 0.18], rtol=0, atol=1e-12)


def test_expiry_day_option_one_minute_before_the_close_has_an_implied_vol() -> None:
    price = black76_price(True, 24000.0, 24000.0, ONE_MINUTE, 0.065, 0.15)

    result = implied_vol_black76(True, price, 24000.0, 24000.0, ONE_MINUTE, 0.065)

    assert result.status == IvStatus.OK
    assert float(result.iv) == pytest.approx(0.15, abs=1e-10)


def test_status_names_start_with_ok_and_name_every_reason() -> None:
    assert IV_STATUS_NAMES[0] == "ok"
    for name in ("below_intrinsic", "above_upper_bound", "no_time_value", "invalid_input"):
        assert IV_STATUS_NAMES[IvStatus[name.upper()]] == name


@pytest.mark.parametrize(
    ("is_call", "price", "forward", "strike", "t", "expected"),
    [
        (True, 90.0, 24000.0, 23800.0, 0.02, IvStatus.BELOW_INTRINSIC),
        (False, 10.0, 24000.0, 24200.0, 0.02, IvStatus.BELOW_INTRINSIC),
        (True, 24000.0, 24000.0, 23800.0, 0.02, IvStatus.ABOVE_UPPER_BOUND),
        (False, 24200.0, 24000.0, 24200.0, 0.02, IvStatus.ABOVE_UPPER_BOUND),
        (True, 0.04, 24000.0, 26000.0, 0.02, IvStatus.NO_TIME_VALUE),
        (True, 0.0, 24000.0, 26000.0, 0.02, IvStatus.INVALID_INPUT),
        (True, -1.0, 24000.0, 26000.0, 0.02, IvStatus.INVALID_INPUT),
        (True, math.nan, 24000.0, 26000.0, 0.02, IvStatus.INVALID_INPUT),
        (True, 10.0, 0.0, 26000.0, 0.02, IvStatus.INVALID_INPUT),
        (True, 10.0, 24000.0, -5.0, 0.02, IvStatus.INVALID_INPUT),
        (True, 10.0, 24000.0, 26000.0, 0.0, IvStatus.INVALID_INPUT),
        (True, 10.0, 24000.0, math.nan, 0.02, IvStatus.INVALID_INPUT),
    ],
)
def test_each_no_iv_case_gives_nan_and_its_reason(
    is_call: bool, price: float, forward: float, strike: float, t: float, expected: IvStatus
) -> None:
    result = implied_vol_black76(is_call, price, forward, strike, t, 0.0)

    assert result.status == expected
    assert math.isnan(float(result.iv))


def test_price_at_intrinsic_within_rounding_has_no_time_value_not_below_intrinsic() -> None:
    intrinsic = math.exp(-0.065 * 0.02) * (24000.0 - 23000.0)

    result = implied_vol_black76(True, intrinsic * (1 - 1e-15), 24000.0, 23000.0, 0.02, 0.065)

    assert result.status == IvStatus.NO_TIME_VALUE


def test_time_value_of_exactly_one_tick_is_inverted() -> None:
    result = implied_vol_black76(True, TICK, 24000.0, 26000.0, 0.02, 0.065)

    assert result.status == IvStatus.OK


def test_min_time_value_zero_inverts_sub_tick_prices() -> None:
    price = black76_price(True, 1.0, 1.2, 0.1, 0.0, 0.2)

    result = implied_vol_black76(True, price, 1.0, 1.2, 0.1, 0.0, min_time_value=0.0)

    assert float(result.iv) == pytest.approx(0.2, abs=1e-12)


def test_one_bad_option_does_not_spoil_the_rest_of_the_chain() -> None:
    strikes = np.array([23500.0, 24000.0, -1.0, 24500.0])
    prices = black76_price(True, 24000.0, np.abs(strikes), 0.05, 0.065, 0.2)

    result = implied_vol_black76(True, prices, 24000.0, strikes, 0.05, 0.065)

    assert result.status.tolist() == [0, 0, IvStatus.INVALID_INPUT, 0]
    np.testing.assert_allclose(result.iv[[0, 1, 3]], 0.2, atol=1e-12)


def test_arguments_broadcast_to_a_grid() -> None:
    strikes = np.array([[23000.0], [24000.0], [25000.0]])
    vols = np.array([0.1, 0.2, 0.3, 0.4])
    prices = black76_price(False, 24000.0, strikes, 0.1, 0.05, vols)

    result = implied_vol_black76(False, prices, 24000.0, strikes, 0.1, 0.05)

    assert result.iv.shape == (3, 4)
    np.testing.assert_allclose(result.iv, np.broadcast_to(vols, (3, 4)), atol=1e-12)


def test_status_names_of_a_result_are_readable() -> None:
    result = implied_vol_black76([True, True], [10.0, -1.0], 24000.0, 24100.0, 0.05, 0.065)

    assert result.status_names().tolist() == ["ok", "invalid_input"]


def test_implied_greeks_equal_implied_vol_then_black76_greeks() -> None:
    c = _random_chain(20_000, seed=7)
    price = black76_price(c["is_call"], c["forward"], c["strike"], c["t"], c["rate"], c["vol"])
    args = (c["is_call"], price, c["forward"], c["strike"], c["t"], c["rate"])

    result, greeks = implied_greeks_black76(*args)

    separate = implied_vol_black76(*args)
    expected = black76_greeks(
        c["is_call"], c["forward"], c["strike"], c["t"], c["rate"], separate.iv
    )
    np.testing.assert_array_equal(result.status, separate.status)
    np.testing.assert_array_equal(result.iv, separate.iv)
    f = c["forward"]
    units = {"price": f, "delta": 1.0, "gamma": 1 / f, "theta": f, "vega": f, "rho": f}
    for name, unit in units.items():
        ours, theirs = getattr(greeks, name), getattr(expected, name)
        close = np.abs(ours - theirs) <= 1e-11 * np.abs(theirs) + 1e-14 * unit
        assert (close | (np.isnan(ours) & np.isnan(theirs))).all(), name


def test_implied_greeks_are_nan_where_there_is_no_implied_vol() -> None:
    result, greeks = implied_greeks_black76([True, True], [-1.0, 10.0], 100.0, 100.0, 0.1, 0.0)

    assert result.status.tolist() == [IvStatus.INVALID_INPUT, IvStatus.OK]
    assert np.isnan(greeks.delta[0])
    assert np.isfinite(greeks.delta[1])


def test_several_workers_give_the_same_result_as_one() -> None:
    c = _random_chain(120_000, seed=11)
    price = black76_price(c["is_call"], c["forward"], c["strike"], c["t"], c["rate"], c["vol"])
    args = (c["is_call"], price, c["forward"], c["strike"], c["t"], c["rate"])

    one = implied_vol_black76(*args)
    two = implied_vol_black76(*args, workers=2)

    np.testing.assert_array_equal(one.iv, two.iv)
    np.testing.assert_array_equal(one.status, two.status)


def test_strike_beyond_the_guess_table_falls_back_to_the_full_method() -> None:
    price = black76_price(True, 1.0, 200.0, 2.0, 0.0, 2.5)  # |ln(F/K)| = 5.3 > 4.5

    result = implied_vol_black76(True, price, 1.0, 200.0, 2.0, 0.0, min_time_value=0.0)

    assert float(result.iv) == pytest.approx(2.5, abs=1e-10)


def test_tabulated_guess_solves_as_jaeckels_guess_does() -> None:
    rng = np.random.default_rng(13)
    x = -np.abs(np.log(rng.uniform(0.5, 1.5, 20_000)))
    s = np.exp(rng.uniform(math.log(1e-4), math.log(4.0), x.size))
    beta = black76_price(True, np.exp(x / 2), np.exp(-x / 2), 1.0, 0.0, s)  # normalised
    solvable = (beta > 1e-280) & (beta < np.exp(x / 2))

    fast, full = _normalised_solutions(beta[solvable], x[solvable])

    np.testing.assert_allclose(fast, full, rtol=1e-11)


def _normalised_solutions(beta: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The solver with the tabulated guess and with Jaeckel's, option by option."""
    from optbus.pricing._guess_table import fast_implied_vol
    from optbus.pricing._lbr import normalised_implied_vol
    from optbus.pricing.implied_vol import _table

    b_max = np.exp(x / 2)
    fast = [fast_implied_vol(_table(), *args) for args in zip(beta, x, b_max, strict=True)]
    full = [normalised_implied_vol(*args) for args in zip(beta, x, b_max, strict=True)]
    return np.array(fast), np.array(full)
