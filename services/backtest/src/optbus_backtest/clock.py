"""The one clock of a backtest: replay time that never goes back and never runs ahead."""

from __future__ import annotations

from optbus.clock import ClockWentBackwards, EventClock, ReplayClock


class LookAhead(ClockWentBackwards):
    """An event stamped after the replay time was consumed before its time came.

    It is a ClockWentBackwards: had the clock followed it, the next market event would have
    had to take the clock back.
    """


class BacktestClock(ReplayClock, EventClock):
    """A ReplayClock that the services' event clocks can also be: one time for every handler.

    The backtest advances it to each market event's ``ts_event``; handlers that ``observe``
    an event's time may look at the past (a no-op) but never at the future.
    """

    def __init__(self, start_ns: int = 0) -> None:
        ReplayClock.__init__(self, start_ns)

    def observe(self, ts_ns: int) -> None:
        """Note an event's time: at or before the replay time, or the run fails loudly."""
        if ts_ns > self.now_ns():
            raise LookAhead(
                f"event stamped {ts_ns} ns consumed at replay time {self.now_ns()} ns "
                f"({ts_ns - self.now_ns()} ns early)"
            )
