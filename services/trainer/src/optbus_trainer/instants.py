"""Epoch nanoseconds (events) of aware datetimes (the database, people), to the microsecond
PostgreSQL keeps; the other way is ``optbus.timestamps.datetime_from_ns``."""

from __future__ import annotations

from datetime import datetime

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MICROSECOND = 1_000


def epoch_ns(moment: datetime) -> int:
    """Epoch nanoseconds of an aware datetime."""
    whole = moment.replace(microsecond=0).timestamp()
    return int(whole) * _NS_PER_SECOND + moment.microsecond * _NS_PER_MICROSECOND
