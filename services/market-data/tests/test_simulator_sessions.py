"""The simulator follows the exchange calendar: sessions, expiries and strikes from the facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from optbus.events import Event, OptionChainSnapshot, VolatilityIndexTick
from optbus.market import MarketFacts
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig

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
