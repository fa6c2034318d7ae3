"""When the trainer trains: after the close (16:00 IST by default) on trading days, at most
once per trading day. Pure: the time, the calendar and the last day trained are given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from optbus.market import MarketFacts


@dataclass(frozen=True)
class TrainingSchedule:
    """Train each trading day at ``at`` (exchange time) or later, once."""

    at: time = time(16, 0)

    def due(self, now_ns: int, facts: MarketFacts, last_trained: date | None) -> date | None:
        """The trading day to train for now, or None: not a trading day (weekend or holiday),
        before ``at``, or that day was trained already. ``CalendarNotCovered`` when the
        holiday list of the year is not on file (a schedule must not guess)."""
        local = facts.local_datetime(now_ns)
        day = local.date()
        already = last_trained is not None and last_trained >= day
        if local.time() < self.at or already or not facts.is_trading_day(day):
            return None
        return day

    def covered_day(self, trained_ns: int, facts: MarketFacts) -> date:
        """The last day whose training slot a training at ``trained_ns`` covers: that day if at
        or after ``at``, else the day before (a morning run does not stand in for the evening's)."""
        local = facts.local_datetime(trained_ns)
        return local.date() if local.time() >= self.at else local.date() - timedelta(days=1)
