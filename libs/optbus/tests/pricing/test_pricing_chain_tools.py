"""Forward from parity, chain aggregates and time to expiry."""

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from optbus.pricing import (
    black76_greeks,
    black76_price,
    chain_aggregates,
    forward_from_parity,
    implied_vol_black76,
    time_to_expiry_years,
)

STRIKES = np.arange(23000.0, 25001.0, 100.0)
T, R = 7 / 365, 0.065


def _mids(forward: float, vol: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    return (
        black76_price(True, forward, STRIKES, T, R, vol),
        black76_price(False, forward, STRIKES, T, R, vol),
    )


def test_forward_from_parity_recovers_the_forward_of_a_consistent_chain() -> None:
    calls, puts = _mids(24037.5)

    forward = forward_from_parity(STRIKES, calls, puts, T, R)

    assert forward == pytest.approx(24037.5, abs=1e-8)


def test_forward_from_parity_ignores_missing_mids_and_far_strikes_with_bad_quotes() -> None:
    calls, puts = _mids(24037.5)
    calls[STRIKES == 24000.0] = np.nan
    calls[0] += 50.0  # a stale deep in-the-money quote

    forward = forward_from_parity(STRIKES, calls, puts, T, R)

    assert forward == pytest.approx(24037.5, abs=1e-8)


def test_forward_from_parity_is_nan_when_no_strike_has_both_mids() -> None:
    calls, puts = _mids(24037.5)
    puts[:] = np.nan

    assert math.isnan(forward_from_parity(STRIKES, calls, puts, T, R))


def _chain_inputs(forward: float, call_vol: np.ndarray, put_vol: np.ndarray) -> dict[str, object]:
    call = black76_greeks(True, forward, STRIKES, T, R, call_vol)
    put = black76_greeks(False, forward, STRIKES, T, R, put_vol)
    ones = np.ones_like(STRIKES)
    return {
        "strikes": STRIKES,
        "forward": forward,
        "call_iv": call_vol * ones,
        "put_iv": put_vol * ones,
        "call_delta": call.delta,
        "put_delta": put.delta,
        "call_oi": ones,
        "put_oi": 2 * ones,
        "call_volume": 3 * ones,
        "put_volume": ones,
    }


def test_flat_smile_has_atm_iv_equal_to_the_vol_and_no_skew() -> None:
    inputs = _chain_inputs(24030.0, np.full_like(STRIKES, 0.15), np.full_like(STRIKES, 0.15))

    agg = chain_aggregates(**inputs)  # type: ignore[arg-type]

    assert agg.atm_iv == pytest.approx(0.15, abs=1e-15)
    assert agg.risk_reversal_25d == pytest.approx(0.0, abs=1e-15)
    assert agg.butterfly_25d == pytest.approx(0.0, abs=1e-15)


def test_atm_iv_interpolates_linearly_between_the_otm_put_below_and_otm_call_above() -> None:
    call_vol = np.full_like(STRIKES, 0.20)  # only the call at 24100 (above F) should count
    put_vol = np.full_like(STRIKES, 0.10)  # only the put at 24000 (below F) should count
    inputs = _chain_inputs(24025.0, call_vol, put_vol)

    agg = chain_aggregates(**inputs)  # type: ignore[arg-type]

    assert agg.atm_iv == pytest.approx(0.10 + 0.25 * (0.20 - 0.10), abs=1e-15)


def test_put_skew_gives_a_negative_risk_reversal() -> None:
    skewed = 0.15 - 0.2 * (STRIKES / 24000.0 - 1.0)  # vol rising to the downside
    inputs = _chain_inputs(24000.0, skewed, skewed)

    agg = chain_aggregates(**inputs)  # type: ignore[arg-type]

    assert agg.risk_reversal_25d < 0.0


def test_put_call_ratios_are_put_over_call() -> None:
    inputs = _chain_inputs(24000.0, np.full_like(STRIKES, 0.15), np.full_like(STRIKES, 0.15))

    agg = chain_aggregates(**inputs)  # type: ignore[arg-type]

    assert (agg.pcr_open_interest, agg.pcr_volume) == (2.0, pytest.approx(1 / 3))


def test_max_pain_is_the_strike_minimising_the_payout_to_holders() -> None:
    strikes = np.array([100.0, 110.0, 120.0])
    call_oi = np.array([0.0, 0.0, 10.0])  # calls at 120 pay nothing at or below 120
    put_oi = np.array([10.0, 0.0, 0.0])  # puts at 100 pay nothing at or above 100
    nan = np.full(3, np.nan)

    agg = chain_aggregates(strikes, 110.0, nan, nan, nan, nan, call_oi, put_oi, nan, nan)

    assert agg.max_pain == 100.0  # the tie 100/110/120 (payout 0) goes to the lowest strike


def test_aggregates_are_nan_when_nothing_can_be_computed() -> None:
    nan = np.full(3, np.nan)

    agg = chain_aggregates([100.0, 110.0, 120.0], 110.0, nan, nan, nan, nan, nan, nan, nan, nan)

    assert all(math.isnan(v) for v in (agg.atm_iv, agg.risk_reversal_25d, agg.pcr_volume))
    assert math.isnan(agg.max_pain)


def _ns(dt: datetime) -> int:
    return int(dt.timestamp()) * 1_000_000_000


CLOSE = _ns(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # 15:30 IST on a Tuesday expiry


def test_one_minute_before_the_close_is_one_minute_of_a_365_day_year() -> None:
    assert time_to_expiry_years(CLOSE - 60_000_000_000, CLOSE) == 1 / (365 * 24 * 60)


def test_time_to_expiry_is_exact_to_the_nanosecond_at_epoch_scale() -> None:
    assert time_to_expiry_years(CLOSE - 1, CLOSE) == 1 / (365 * 24 * 3600 * 1e9)


def test_time_to_expiry_is_zero_at_and_after_the_close() -> None:
    result = time_to_expiry_years(np.array([CLOSE, CLOSE + 10**9]), CLOSE)

    np.testing.assert_array_equal(result, [0.0, 0.0])


def test_a_weekend_counts_as_calendar_time() -> None:
    friday_close = CLOSE - 4 * 86_400 * 10**9  # Friday 15:30 IST to Tuesday 15:30 IST

    assert time_to_expiry_years(friday_close, CLOSE) == pytest.approx(4 / 365, rel=1e-15)


def test_iv_of_a_chain_priced_at_a_known_vol_is_that_vol_with_time_from_timestamps() -> None:
    t = time_to_expiry_years(CLOSE - 3 * 3600 * 10**9, CLOSE)  # expiry day, 12:30 IST
    calls = black76_price(True, 24000.0, STRIKES, t, R, 0.12)

    result = implied_vol_black76(True, np.round(calls, 2), 24000.0, STRIKES, t, R)

    ok = result.status == 0
    np.testing.assert_allclose(result.iv[ok], 0.12, atol=2e-3)
