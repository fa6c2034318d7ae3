"""``optbus replay``: recorded market events from the database, paced onto an isolated bus."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime

import nats
import psycopg

from optbus.clock import LiveClock
from optbus.codec import Decoder
from optbus.events import BusEvent, Event
from optbus.runtime.bus import EventPublisher, ensure_streams
from optbus_market_data.pacing import Speed
from optbus_market_data.publishing import play

_decoder: Decoder[Event] = Decoder(BusEvent)  # type: ignore[arg-type]
_MARKET_EVENTS = (
    "SELECT payload::text FROM events WHERE stream = 'MD' AND type IN ('md.chain', 'md.vix') "
    "AND time >= %s AND time < %s ORDER BY time, seq"
)


def recorded_steps(database_url: str, start: datetime, end: datetime) -> Iterator[list[Event]]:
    """The recorded market events of ``[start, end)``, one list per market instant."""
    with psycopg.connect(database_url) as conn, conn.cursor(name="optbus_replay") as cursor:
        cursor.itersize = 2_000
        cursor.execute(_MARKET_EVENTS, (start, end))
        events = (_decoder.decode(row[0]) for row in cursor)
        for _, step in itertools.groupby(events, key=lambda event: event.ts_event):
            yield list(step)


async def replay(
    database_url: str, target_nats_url: str, start: datetime, end: datetime, speed: Speed
) -> int:
    """Publish the window's market events to ``target_nats_url``; returns how many."""
    nc = await nats.connect(target_nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        publisher = EventPublisher(lambda: js, "replay")
        return await play(recorded_steps(database_url, start, end), publisher, speed, LiveClock())
    finally:
        await nc.close()
