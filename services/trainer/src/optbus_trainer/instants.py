"""Instants between the two forms the trainer meets: epoch nanoseconds (events) and aware
datetimes (the database, people), to the microsecond PostgreSQL keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MICROSECOND = 1_000


def epoch_ns(moment: datetime) -> int:
    """Epoch nanoseconds of an aware datetime."""
    whole = moment.replace(microsecond=0).timestamp()
    return int(whole) * _NS_PER_SECOND + moment.microsecond * _NS_PER_MICROSECOND


def utc_datetime(ts_ns: int) -> datetime:
    """The aware UTC datetime of epoch nanoseconds (truncated to the microsecond)."""
    seconds, rest = divmod(ts_ns, _NS_PER_SECOND)
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(
        microseconds=rest // _NS_PER_MICROSECOND
    )
