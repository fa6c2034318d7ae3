"""Epoch nanoseconds (what events carry) as aware UTC datetimes (what PostgreSQL and people use).

Persistence writes rows with these instants and the trainer reads them back by the same rule,
so the conversion lives here, once, to the microsecond PostgreSQL keeps; and every command reads
a time given without a zone the same way, as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

_NS_PER_SECOND = 1_000_000_000


def datetime_from_ns(ts_ns: int) -> datetime:
    """A UTC datetime (microsecond precision, as PostgreSQL keeps it) from epoch nanoseconds."""
    seconds, nanos = divmod(ts_ns, _NS_PER_SECOND)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // 1000)


def as_utc(moment: datetime) -> datetime:
    """A naive time (as a command line gives it) read as UTC; an aware one kept as it is."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
