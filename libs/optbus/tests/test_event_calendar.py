"""The event calendar: scheduled market events by day, each with its source."""

from __future__ import annotations

from datetime import date

from optbus.event_calendar import events_on, load_event_calendar


def test_the_union_budget_of_2025_is_on_its_day() -> None:
    assert [event.kind for event in events_on(date(2025, 2, 1))] == ["union_budget"]


def test_an_ordinary_day_has_no_events() -> None:
    assert events_on(date(2025, 6, 5)) == ()


def test_every_event_names_where_its_date_comes_from() -> None:
    assert all("http" in event.source for event in load_event_calendar())
