"""Injected time and randomness, so that domain code never reads the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, Protocol, TypeVar

import numpy as np

EventT = TypeVar("EventT")
ResultT = TypeVar("ResultT")
ClockKind = Literal["live", "market"]


class Clock(Protocol):
    """Where domain code asks what time it is, in integer nanoseconds since the epoch."""

    def now_ns(self) -> int: ...


class LiveClock:
    """The wall clock, for live services."""

    def now_ns(self) -> int:
        return time.time_ns()


class ClockWentBackwards(RuntimeError):
    """A replay clock was asked to move to an earlier time than it already shows."""


class ReplayClock:
    """A clock that shows the time of the last event replayed and never moves backwards."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def advance_to(self, ts_ns: int) -> None:
        """Move the clock to ``ts_ns``; refuses to go back in time."""
        if ts_ns < self._now_ns:
            raise ClockWentBackwards(
                f"replay clock at {self._now_ns} ns asked to go back to {ts_ns} ns"
            )
        self._now_ns = ts_ns


def seeded_rng(seed: int) -> np.random.Generator:
    """The one way to make randomness: a numpy generator from an explicit seed."""
    return np.random.default_rng(np.random.PCG64(seed))


class EventClock:
    """Market time: the latest event time a service has seen.

    On a live feed it runs a few milliseconds behind the wall clock; on a simulated or
    replayed session it runs on that session's own time, so checks that compare times (an
    intent's age, trading hours) work the same in both.
    """

    def __init__(self, start_ns: int = 0) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def observe(self, ts_ns: int) -> None:
        """Note an event's time; the clock only moves forward."""
        self._now_ns = max(self._now_ns, ts_ns)


def on_clock(
    handle: Callable[[EventT], ResultT], clock: LiveClock | EventClock
) -> Callable[[EventT], ResultT]:
    """``handle`` as is on the wall clock; on market time, the clock first moves to the event.

    A service replaying a session reads its time from the events, as the backtest does; an
    input without a ``ts_event`` (an operator's command) leaves the clock where it is.
    """
    if isinstance(clock, LiveClock):
        return handle

    def handle_on_market_time(event: EventT) -> ResultT:
        ts_event = getattr(event, "ts_event", None)
        if isinstance(ts_event, int):
            clock.observe(ts_event)
        return handle(event)

    return handle_on_market_time
