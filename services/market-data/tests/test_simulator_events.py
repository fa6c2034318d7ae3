"""Event days: the simulator raises volatility on the event calendar's days, and only there."""

from __future__ import annotations

from datetime import date

import numpy as np
from conftest import Simulate

from optbus.event_calendar import events_on
from optbus.events import Event, OptionChainSnapshot
from optbus_market_data.simulator import EventVolatility

RBI_POLICY_DAY = date(2025, 6, 6)
NO_EVENTS = EventVolatility(
    rbi_policy=1.0, union_budget=1.0, election_result=1.0, index_rebalance=1.0
)


def _nifty_spots(steps: list[list[Event]]) -> np.ndarray:
    return np.array(
        [
            next(
                e.spot
                for e in step
                if isinstance(e, OptionChainSnapshot) and e.underlying == "NIFTY"
            )
            for step in steps
        ]
    )


def _first_atm_straddle(steps: list[list[Event]]) -> float:
    chain = next(
        e for e in steps[0] if isinstance(e, OptionChainSnapshot) and e.underlying == "NIFTY"
    )
    atm = int(np.argmin(np.abs(np.asarray(chain.strikes) - chain.futures)))
    return (
        chain.calls.bid[atm] + chain.calls.ask[atm] + chain.puts.bid[atm] + chain.puts.ask[atm]
    ) / 2


def test_the_calendar_lists_the_rbi_decision_of_june_2025() -> None:
    assert [event.kind for event in events_on(RBI_POLICY_DAY)] == ["rbi_policy"]


def test_an_rbi_policy_day_moves_the_index_more_than_the_same_day_without_the_event(
    simulate: Simulate,
) -> None:
    eventful = simulate(start_date=RBI_POLICY_DAY)
    plain = simulate(start_date=RBI_POLICY_DAY, event_volatility=NO_EVENTS)

    def realised(steps: list[list[Event]]) -> float:
        return float(np.sum(np.diff(np.log(_nifty_spots(steps))) ** 2))

    assert realised(eventful) > 1.3 * realised(plain)


def test_an_rbi_policy_day_opens_with_dearer_options(simulate: Simulate) -> None:
    eventful = simulate(start_date=RBI_POLICY_DAY)
    plain = simulate(start_date=RBI_POLICY_DAY, event_volatility=NO_EVENTS)

    assert _first_atm_straddle(eventful) > 1.1 * _first_atm_straddle(plain)


def test_a_day_without_events_is_simulated_the_same_whatever_the_event_multiples(
    simulate: Simulate, default_day: list[list[Event]]
) -> None:
    assert events_on(date(2026, 6, 1)) == ()

    assert simulate(event_volatility=NO_EVENTS) == default_day
