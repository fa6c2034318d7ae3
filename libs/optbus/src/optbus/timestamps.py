"""Epoch nanoseconds (what events carry) as aware UTC datetimes (what PostgreSQL and people use).

Persistence writes rows with these instants and the trainer reads them back by the same rule,
so the conversion lives here, once, both ways, to the microsecond PostgreSQL keeps; and every
command reads a time given without a zone the same way, as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MICROSECOND = 1_000


def datetime_from_ns(ts_ns: int) -> datetime:
    """A UTC datetime (microsecond precision, as PostgreSQL keeps it) from epoch nanoseconds."""
    seconds, nanos = divmod(ts_ns, _NS_PER_SECOND)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // _NS_PER_MICROSECOND)


def epoch_ns(moment: datetime) -> int:
    """Epoch nanoseconds of an aware datetime: the inverse of ``datetime_from_ns``.

    The whole seconds go through ``timestamp()`` and the microseconds apart, because a float of
    seconds since 1970 cannot hold a microsecond exactly.
    """
    whole = moment.replace(microsecond=0).timestamp()
    return int(whole) * _NS_PER_SECOND + moment.microsecond * _NS_PER_MICROSECOND


def as_utc(moment: datetime) -> datetime:
    """A naive time (as a command line gives it) read as UTC; an aware one kept as it is."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
