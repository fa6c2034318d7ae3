"""Epoch nanoseconds as UTC datetimes, to the microsecond PostgreSQL keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from optbus.timestamps import datetime_from_ns

TS = 1_764_564_300_123_456_789


def test_an_event_time_becomes_its_utc_datetime_to_the_microsecond() -> None:
    assert datetime_from_ns(TS) == datetime(2025, 12, 1, 4, 45, 0, 123456, tzinfo=UTC)
