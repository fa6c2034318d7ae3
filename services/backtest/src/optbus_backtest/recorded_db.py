"""Recorded market events from the database: a time window of ``md.chain`` and ``md.vix``.

Shared by the in-process backtest (``optbus backtest --from/--to``) and the bus replay
(``optbus replay``), so both read the very same steps.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime

from optbus import database
from optbus.codec import any_event_decoder
from optbus.events import Event

_decoder = any_event_decoder()
_WINDOW = (
    "run_id = 'live' AND stream = 'MD' AND type IN ('md.chain', 'md.vix') "
    "AND time >= %s AND time < %s"
)
_MARKET_EVENTS = f"SELECT payload::text FROM events WHERE {_WINDOW} ORDER BY time, seq"
_STEP_COUNT = f"SELECT count(DISTINCT ts_event) FROM events WHERE {_WINDOW}"


def recorded_steps(database_url: str, start: datetime, end: datetime) -> Iterator[list[Event]]:
    """The recorded market events of ``[start, end)``, one list per market instant."""
    with database.connect(database_url) as conn, conn.cursor(name="optbus_replay") as cursor:
        # The window is sorted before its first row comes: a whole day's sort outlasts the
        # connection's statement timeout on a loaded machine. The cursor's transaction only.
        conn.execute("SET LOCAL statement_timeout = 0")
        cursor.itersize = 2_000
        cursor.execute(_MARKET_EVENTS, (start, end))
        events = (_decoder.decode(row[0]) for row in cursor)
        for _, step in itertools.groupby(events, key=lambda event: event.ts_event):
            yield list(step)


def recorded_step_count(database_url: str, start: datetime, end: datetime) -> int:
    """How many market instants ``[start, end)`` holds (0 for an empty window)."""
    with database.connect(database_url) as conn:
        row = conn.execute(_STEP_COUNT, (start, end)).fetchone()
    return int(row[0]) if row else 0
