"""Epoch nanoseconds as UTC datetimes, to the microsecond PostgreSQL keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from optbus.timestamps import as_utc, datetime_from_ns

TS = 1_764_564_300_123_456_789


def test_an_event_time_becomes_its_utc_datetime_to_the_microsecond() -> None:
    assert datetime_from_ns(TS) == datetime(2025, 12, 1, 4, 45, 0, 123456, tzinfo=UTC)


def test_a_naive_time_is_read_as_utc() -> None:
    assert as_utc(datetime(2026, 12, 2, 9, 15)) == datetime(2026, 12, 2, 9, 15, tzinfo=UTC)


def test_an_aware_time_keeps_its_zone() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2026, 12, 2, 9, 15, tzinfo=ist)

    assert as_utc(moment).tzinfo is ist
