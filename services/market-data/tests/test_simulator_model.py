"""The simulator's model pieces behave like an index options market, one property at a time."""

from __future__ import annotations

import numpy as np

from optbus.clock import seeded_rng
from optbus_market_data.simulator import (
    QuotingModel,
    SpotModel,
    SurfaceModel,
    quoting,
    spot,
    surface,
)

SURFACE = SurfaceModel()
MODEL = SpotModel(initial_spot=26_000.0)
WEEK = np.array([5.0 / 252])


def _vol(log_moneyness: float, variance: float = 0.0144, tenor: np.ndarray = WEEK) -> float:
    total, _ = surface.total_variance(
        SURFACE, MODEL, np.array([variance]), tenor, np.array([[log_moneyness]])
    )
    return float(np.sqrt(total[0, 0] / tenor[0]))


def test_out_of_the_money_puts_carry_more_volatility_than_calls_the_same_distance_away() -> None:
    assert _vol(-0.03) > _vol(0.03)


def test_the_smile_rises_on_both_wings() -> None:
    assert _vol(-0.05) > _vol(0.0)
    assert _vol(0.06) > _vol(0.01)


def test_far_wings_stay_bounded() -> None:
    assert _vol(-0.5) < 4 * _vol(0.0)


def test_higher_variance_lifts_the_whole_surface() -> None:
    assert _vol(0.0, variance=0.04) > _vol(0.0, variance=0.0144)
    assert _vol(-0.03, variance=0.04) > _vol(-0.03, variance=0.0144)


def test_realised_variance_pulls_the_priced_variance_towards_it() -> None:
    calm, stressed = np.array([0.01]), np.array([0.09])

    assert surface.effective_variance(SURFACE, calm, stressed)[0] > calm[0]


def test_short_dated_vol_reverts_less_than_long_dated_when_variance_is_high() -> None:
    high = np.array([0.09])

    short = surface.atm_vol(SURFACE, MODEL, high, np.array([1.0 / 252]))
    long = surface.atm_vol(SURFACE, MODEL, high, np.array([60.0 / 252]))

    assert short[0] > long[0]


def _quote(mid: float, otm: float, days: float, n: int = 4000) -> quoting.Quotes:
    shape = (1, n)
    return quoting.quote(
        QuotingModel(),
        np.full(shape, mid),
        np.full(shape, otm),
        np.full(shape, days),
        0.05,
        30.0,
        seeded_rng(1),
    )


def _mean_spread(q: quoting.Quotes) -> float:
    return float(np.mean(q.ask - q.bid))


def test_quotes_are_wider_out_of_the_money_than_at_the_money() -> None:
    assert _mean_spread(_quote(20.0, otm=3.0, days=5.0)) > _mean_spread(_quote(20.0, 0.0, 5.0))


def test_quotes_are_wider_near_expiry() -> None:
    assert _mean_spread(_quote(20.0, otm=0.0, days=0.2)) > _mean_spread(_quote(20.0, 0.0, 10.0))


def test_an_option_worth_less_than_a_tick_has_no_bid_and_a_one_tick_offer() -> None:
    q = _quote(0.01, otm=5.0, days=0.1, n=3)

    assert q.bid.tolist() == [[0.0, 0.0, 0.0]]
    assert q.ask.tolist() == [[0.05, 0.05, 0.05]]


def _session(seed: int) -> spot.SessionPath:
    models = (MODEL, SpotModel(initial_spot=59_000.0))
    return spot.simulate_session(
        models,
        spot.initial_state(models),
        seeded_rng(seed),
        n_steps=22_500,
        overnight_share=0.2,
        market_correlation=0.8,
        realised_halflife_days=0.5,
    )


def test_the_two_indices_move_together() -> None:
    returns = np.diff(np.log(_session(3).spot), axis=0)

    assert np.corrcoef(returns.T)[0, 1] > 0.6


def test_variance_never_falls_below_its_floor() -> None:
    assert _session(4).variance.min() >= MODEL.min_vol**2


def test_a_day_moves_the_index_by_about_its_daily_volatility() -> None:
    moves = [abs(np.log(_session(seed).spot[-1, 0] / 26_000.0)) for seed in range(20)]

    daily = MODEL.long_run_vol / np.sqrt(252)
    assert 0.3 * daily < float(np.mean(moves)) < 2.0 * daily
