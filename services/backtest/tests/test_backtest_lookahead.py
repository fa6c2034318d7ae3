"""The look-ahead guard: a handler that peeks at the future makes the run fail loudly."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from optbus.clock import ClockWentBackwards
from optbus.events import Event, Signal
from optbus.market import MarketFacts
from optbus.subjects import subject_matches
from optbus_backtest.clock import BacktestClock, LookAhead
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import Backtest

Steps = Callable[[int, int], tuple[tuple[Event, ...], ...]]
ONE_MINUTE = 1


def _steps(simulated: Steps) -> tuple[tuple[Event, ...], ...]:
    return simulated(7, ONE_MINUTE)


def _future_ts(steps: tuple[tuple[Event, ...], ...]) -> int:
    return steps[-1][-1].ts_event


def test_a_handler_that_moves_the_clock_to_a_future_event_fails_at_the_next_market_event(
    simulated: Steps, facts: MarketFacts
) -> None:
    steps = _steps(simulated)
    backtest = Backtest(BacktestConfig(), facts)

    def peek(event: Event) -> list[Event]:
        backtest.clock.advance_to(_future_ts(steps))
        return []

    backtest.bus.subscribe("peeker", "md.vix.>", peek)
    with pytest.raises(ClockWentBackwards, match="asked to go back"):
        backtest.run(steps)


def test_a_handler_that_emits_an_event_stamped_in_the_future_fails_when_it_is_consumed(
    simulated: Steps, facts: MarketFacts
) -> None:
    steps = _steps(simulated)
    signal_template = _a_signal(simulated, facts)
    backtest = Backtest(BacktestConfig(), facts)

    def peek(event: Event) -> list[Event]:
        return [msgspec.structs.replace(signal_template, ts_event=_future_ts(steps))]

    backtest.bus.subscribe("peeker", "md.vix.>", peek)
    with pytest.raises(LookAhead, match="early"):
        backtest.run(steps)


def test_a_handler_that_asks_the_clock_to_go_back_fails(
    simulated: Steps, facts: MarketFacts
) -> None:
    backtest = Backtest(BacktestConfig(), facts)

    def rewind(event: Event) -> list[Event]:
        backtest.clock.advance_to(event.ts_event - 1)
        return []

    backtest.bus.subscribe("rewinder", "md.vix.>", rewind)
    with pytest.raises(ClockWentBackwards):
        backtest.run(_steps(simulated))


def test_market_steps_out_of_time_order_fail(simulated: Steps, facts: MarketFacts) -> None:
    steps = _steps(simulated)
    with pytest.raises(ClockWentBackwards):
        Backtest(BacktestConfig(), facts).run([steps[1], steps[0]])


def test_looking_at_the_past_is_allowed_and_leaves_the_clock_where_it_is() -> None:
    clock = BacktestClock(1_000)
    clock.observe(999)
    clock.observe(1_000)
    assert clock.now_ns() == 1_000
    with pytest.raises(LookAhead):
        clock.observe(1_001)


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("exec.>", "exec.position.opened", True),
        ("exec.position.>", "exec.fill", False),
        ("md.chain.>", "md.chain.NIFTY.20260602", True),
        ("md.*", "md.vix", True),
        ("md.*", "md.vix.INDIAVIX", False),
        ("risk.decision.>", "risk.decision", False),
    ],
)
def test_subjects_are_matched_as_nats_matches_them(
    pattern: str, subject: str, matches: bool
) -> None:
    assert subject_matches(pattern, subject) is matches


def _a_signal(simulated: Steps, facts: MarketFacts) -> Signal:
    from optbus_backtest.engine import run_backtest

    result = run_backtest(simulated(7, 6), BacktestConfig(), facts=facts)
    return next(e for e in result.trade_log.events if isinstance(e, Signal))
