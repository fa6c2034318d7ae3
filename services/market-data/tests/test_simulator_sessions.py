"""The simulator follows the exchange calendar: sessions, expiries and strikes from the facts."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus.events import Event, OptionChainSnapshot, VolatilityIndexTick
from optbus.market import MarketFacts
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig
from optbus_market_data.simulator.chain import session_strikes

Steps = list[list[Event]]
IST_OFFSET = timedelta(hours=5, minutes=30)


def _ist_date(ts_ns: int) -> date:
    return (datetime.fromtimestamp(ts_ns / 1e9, tz=UTC) + IST_OFFSET).date()


def _chains_by_day(steps: Steps) -> dict[date, set[tuple[str, date]]]:
    found: dict[date, set[tuple[str, date]]] = {}
    for step in steps:
        for e in step:
            if isinstance(e, OptionChainSnapshot):
                found.setdefault(_ist_date(e.ts_event), set()).add((e.underlying, e.expiry))
    return found


def test_every_step_falls_inside_its_session(default_day: Steps, facts: MarketFacts) -> None:
    day = date(2026, 6, 1)
    opening, closing = facts.session_open_ns(day), facts.session_close_ns(day)

    times = [event.ts_event for step in default_day for event in step]

    assert min(times) == opening
    assert max(times) < closing


def test_a_session_at_one_minute_steps_has_375_steps(default_day: Steps) -> None:
    assert len(default_day) == 375


def test_weekends_and_holidays_are_skipped(simulate: Callable[..., Steps]) -> None:
    # Friday 2026-10-02 is Gandhi Jayanti: Thursday is followed by Monday and Tuesday.
    steps = simulate(start_date=date(2026, 10, 1), days=3, step_seconds=3000.0)

    days = sorted({_ist_date(step[0].ts_event) for step in steps})

    assert days == [date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 6)]


def test_a_start_on_a_holiday_begins_on_the_next_trading_day(
    facts: MarketFacts, make_config: Callable[..., SimulatorConfig]
) -> None:
    simulator = ChainSimulator(make_config(start_date=date(2026, 10, 2)), facts, _FixedClock())

    assert simulator.trading_days() == [date(2026, 10, 5)]


def test_nifty_has_two_weeklies_and_the_monthly_and_banknifty_the_monthly(
    default_day: Steps,
) -> None:
    chains = _chains_by_day(default_day)[date(2026, 6, 1)]

    assert chains == {
        ("NIFTY", date(2026, 6, 2)),
        ("NIFTY", date(2026, 6, 9)),
        ("NIFTY", date(2026, 6, 30)),
        ("BANKNIFTY", date(2026, 6, 30)),
    }


def test_an_expired_weekly_is_replaced_by_the_next_one(simulate: Callable[..., Steps]) -> None:
    steps = simulate(start_date=date(2026, 6, 2), days=2, step_seconds=3000.0)

    nifty = {
        day: sorted(expiry for u, expiry in chains if u == "NIFTY")
        for day, chains in _chains_by_day(steps).items()
    }

    assert nifty[date(2026, 6, 2)] == [date(2026, 6, 2), date(2026, 6, 9), date(2026, 6, 30)]
    assert nifty[date(2026, 6, 3)] == [date(2026, 6, 9), date(2026, 6, 16), date(2026, 6, 30)]


def test_an_expiry_on_a_holiday_is_simulated_on_the_day_before(
    simulate: Callable[..., Steps],
) -> None:
    # Tuesday 2026-11-24 is a holiday: November's monthly (and weekly) expiry is Monday 23rd.
    steps = simulate(start_date=date(2026, 11, 23), step_seconds=3000.0)

    chains = _chains_by_day(steps)[date(2026, 11, 23)]

    assert ("BANKNIFTY", date(2026, 11, 23)) in chains
    assert ("NIFTY", date(2026, 11, 23)) in chains


@pytest.mark.parametrize(
    ("underlying", "count", "step"), [("NIFTY", 61, 50.0), ("BANKNIFTY", 51, 100.0)]
)
def test_strikes_sit_on_the_strike_step_around_the_money(
    default_day: Steps, underlying: str, count: int, step: float
) -> None:
    chain = next(
        e
        for e in default_day[0]
        if isinstance(e, OptionChainSnapshot) and e.underlying == underlying
    )

    assert len(chain.strikes) == count
    assert all(k % step == 0 for k in chain.strikes)
    assert abs(chain.strikes[count // 2] - chain.spot) <= step / 2


def test_every_step_ends_with_one_india_vix_tick(default_day: Steps) -> None:
    ticks = [step[-1] for step in default_day]

    assert all(isinstance(t, VolatilityIndexTick) and t.index == "INDIAVIX" for t in ticks)
    assert sum(isinstance(e, VolatilityIndexTick) for step in default_day for e in step) == 375


def test_lot_sizes_come_from_the_contract_facts(default_day: Steps, facts: MarketFacts) -> None:
    lots = {e.underlying: e.lot_size for e in default_day[0] if isinstance(e, OptionChainSnapshot)}

    assert lots == {u: facts.contract(u).lot_size for u in ("NIFTY", "BANKNIFTY")}


class _FixedClock:
    def now_ns(self) -> int:
        return 0


def _strikes_by_day(steps: Steps) -> dict[tuple[str, date], dict[date, list[float]]]:
    """The strikes of each chain on each day (strikes are fixed for a session)."""
    found: dict[tuple[str, date], dict[date, list[float]]] = {}
    for step in steps:
        for e in step:
            if isinstance(e, OptionChainSnapshot):
                days = found.setdefault((e.underlying, e.expiry), {})
                days.setdefault(_ist_date(e.ts_event), e.strikes)
    return found


def test_a_strike_once_listed_stays_listed_while_its_expiry_lives(
    simulate: Callable[..., Steps], make_config: Callable[..., SimulatorConfig]
) -> None:
    narrow = tuple(
        msgspec.structs.replace(u, strikes_per_side=3) for u in make_config().underlyings
    )
    steps = simulate(underlyings=narrow, start_date=date(2026, 6, 3), days=4, step_seconds=3000.0)

    by_chain = _strikes_by_day(steps)

    grown = 0
    for days in by_chain.values():
        listed = [days[day] for day in sorted(days)]
        for before, after in itertools.pairwise(listed):
            assert set(before) <= set(after)
            assert after == sorted(after)
            grown += len(after) > len(before)
    assert grown > 0  # the spot moved the window at least once, so something was kept


def test_each_session_lists_its_window_around_the_money(
    simulate: Callable[..., Steps], make_config: Callable[..., SimulatorConfig], facts: MarketFacts
) -> None:
    narrow = tuple(
        msgspec.structs.replace(u, strikes_per_side=3) for u in make_config().underlyings
    )
    steps = simulate(underlyings=narrow, start_date=date(2026, 6, 3), days=4, step_seconds=3000.0)
    openings = [
        e
        for step in steps
        for e in step
        if isinstance(e, OptionChainSnapshot)
        and e.ts_event == facts.session_open_ns(_ist_date(e.ts_event))
    ]

    for chain in openings:
        step = facts.contract(chain.underlying, _ist_date(chain.ts_event)).strike_step
        atm = round(chain.spot / step) * step
        assert {atm + step * k for k in range(-3, 4)} <= set(chain.strikes)


@given(
    window_start=st.integers(-50, 50),
    listed=st.lists(st.integers(-100, 100), unique=True).map(sorted),
)
def test_session_strikes_are_the_window_and_every_listed_strike_ascending_once(
    window_start: int, listed: list[int]
) -> None:
    window = np.arange(window_start, window_start + 7, dtype=np.int64)
    before = np.asarray(listed, dtype=np.int64)

    strikes = session_strikes(window, before).tolist()

    assert strikes == sorted(set(window.tolist()) | set(listed))
