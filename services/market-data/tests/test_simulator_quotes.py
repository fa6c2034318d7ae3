"""Simulated quotes look like an exchange's: on the tick, never crossed, never negative."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optbus.events import ChainSide, Event, OptionChainSnapshot

Steps = list[list[Event]]
TICK = 0.05


def _chains(steps: Steps) -> Iterator[OptionChainSnapshot]:
    for step in steps:
        for event in step:
            if isinstance(event, OptionChainSnapshot):
                yield event


def _sides(steps: Steps) -> Iterator[tuple[OptionChainSnapshot, ChainSide]]:
    for chain in _chains(steps):
        yield chain, chain.calls
        yield chain, chain.puts


def _off_grid(prices: list[float]) -> list[float]:
    values = np.asarray(prices)
    return values[np.abs(values / TICK - np.rint(values / TICK)) > 1e-9].tolist()  # type: ignore[no-any-return]


def _assert_well_formed(steps: Steps) -> None:
    for _, side in _sides(steps):
        bid, ask = np.asarray(side.bid), np.asarray(side.ask)
        assert (bid < ask).all(), "crossed or locked quote"
        assert (bid >= 0).all(), "negative bid"
        assert (ask >= TICK).all(), "offer below one tick"
        assert not _off_grid(side.bid + side.ask + side.last)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=2**63 - 1))
def test_quotes_are_never_crossed_negative_or_off_the_tick_grid_for_any_seed(
    simulate: Callable[..., Steps], seed: int
) -> None:
    steps = simulate(seed=seed, step_seconds=900.0)

    _assert_well_formed(steps)


def test_quotes_of_a_whole_session_are_never_crossed_negative_or_off_the_grid(
    default_day: Steps,
) -> None:
    _assert_well_formed(default_day)


def test_an_empty_bid_has_no_size_and_a_real_bid_is_at_least_a_tick(default_day: Steps) -> None:
    for _, side in _sides(default_day):
        for bid, size in zip(side.bid, side.bid_size, strict=True):
            assert (bid == 0.0 and size == 0) or (bid >= TICK and size > 0)


def test_the_offer_always_has_a_size(default_day: Steps) -> None:
    assert all(min(side.ask_size) > 0 for _, side in _sides(default_day))


def test_far_out_of_the_money_options_show_no_bid_late_on_expiry_day(
    simulate: Callable[..., Steps],
) -> None:
    expiry_day = simulate(start_date=date(2026, 6, 2))
    expiring = next(c for c in expiry_day[-1] if isinstance(c, OptionChainSnapshot))

    assert expiring.expiry == date(2026, 6, 2)
    assert expiring.calls.bid[-1] == 0.0
    assert expiring.puts.bid[0] == 0.0


def test_sizes_volume_and_open_interest_are_whole_lots(default_day: Steps) -> None:
    for chain, side in _sides(default_day):
        quantities = side.bid_size + side.ask_size + side.volume + side.open_interest
        assert all(q % chain.lot_size == 0 for q in quantities)


def test_open_interest_is_never_negative(default_day: Steps) -> None:
    assert all(min(side.open_interest) >= 0 for _, side in _sides(default_day))


def test_volume_only_grows_during_a_session(default_day: Steps) -> None:
    previous: dict[tuple[str, object], np.ndarray] = {}
    for chain in _chains(default_day):
        volume = np.asarray(chain.calls.volume + chain.puts.volume)
        key = (chain.underlying, chain.expiry)
        if key in previous:
            assert (volume >= previous[key]).all()
        previous[key] = volume


def test_options_near_the_money_trade_more_than_the_wings(default_day: Steps) -> None:
    last_nearest = [c for c in _chains(default_day) if c.underlying == "NIFTY"][-3]
    volume = np.asarray(last_nearest.calls.volume) + np.asarray(last_nearest.puts.volume)
    middle = len(volume) // 2

    assert volume[middle - 3 : middle + 4].sum() > volume[:7].sum() + volume[-7:].sum()


def test_futures_are_on_the_tick_and_at_a_premium_when_the_rate_beats_the_yield(
    default_day: Steps,
) -> None:
    chains = list(_chains(default_day))

    assert not _off_grid([c.futures for c in chains])
    assert all(c.futures > c.spot for c in chains)
