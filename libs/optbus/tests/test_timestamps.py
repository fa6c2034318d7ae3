"""Epoch nanoseconds as UTC datetimes and back, to the microsecond PostgreSQL keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from optbus.timestamps import as_utc, datetime_from_ns, epoch_ns

TS = 1_764_564_300_123_456_789


def test_an_event_time_becomes_its_utc_datetime_to_the_microsecond() -> None:
    assert datetime_from_ns(TS) == datetime(2025, 12, 1, 4, 45, 0, 123456, tzinfo=UTC)


def test_a_datetime_becomes_the_event_time_it_was_made_from_less_the_nanoseconds() -> None:
    assert epoch_ns(datetime_from_ns(TS)) == 1_764_564_300_123_456_000


def test_an_aware_datetime_in_any_zone_names_the_same_event_time_as_in_utc() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2025, 12, 1, 10, 15, 0, 123456, tzinfo=ist)

    assert epoch_ns(moment) == epoch_ns(moment.astimezone(UTC))


def test_a_naive_time_is_read_as_utc() -> None:
    assert as_utc(datetime(2026, 12, 2, 9, 15)) == datetime(2026, 12, 2, 9, 15, tzinfo=UTC)


def test_an_aware_time_keeps_its_zone() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2026, 12, 2, 9, 15, tzinfo=ist)

    assert as_utc(moment).tzinfo is ist
