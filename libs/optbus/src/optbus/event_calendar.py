"""Scheduled market events by day: RBI policy, Union Budget, election results, index rebalances.

The dates are data with their sources (``optbus/data/event-calendar.toml``); the simulator
raises volatility on them and strategies can ask whether a day carries one. Nothing here reads
the wall clock.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Literal

import msgspec

from optbus.market import Confidence, read_data_file

_CALENDAR_FILE = "event-calendar.toml"

EventKind = Literal["rbi_policy", "union_budget", "election_result", "index_rebalance"]


class _EventEntry(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    date: date
    kind: EventKind
    name: str
    source: str
    confidence: Confidence


class _CalendarFile(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    event: list[_EventEntry]


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One scheduled event: its day, kind, what it is and where the date comes from."""

    day: date
    kind: EventKind
    name: str
    source: str


@functools.cache
def load_event_calendar() -> tuple[MarketEvent, ...]:
    """Every scheduled event shipped with optbus, oldest first (read once, immutable)."""
    parsed = read_data_file(_CALENDAR_FILE, _CalendarFile)
    events = [
        MarketEvent(day=entry.date, kind=entry.kind, name=entry.name, source=entry.source)
        for entry in parsed.event
    ]
    return tuple(sorted(events, key=lambda event: (event.day, event.kind)))


def events_on(day: date) -> tuple[MarketEvent, ...]:
    """The scheduled events of ``day`` (none on an ordinary day)."""
    return tuple(event for event in load_event_calendar() if event.day == day)
