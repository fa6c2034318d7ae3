"""``optbus replay``: recorded market events from the database, paced onto an isolated bus."""

from __future__ import annotations

from datetime import datetime

import nats

from optbus.clock import LiveClock
from optbus.runtime.bus import EventPublisher, ensure_streams
from optbus_backtest.recorded_db import recorded_steps as recorded_steps
from optbus_market_data.pacing import Speed
from optbus_market_data.publishing import play


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
