"""Where each market-data event is published, and the loop that plays a source onto the bus."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import msgspec
import structlog

from optbus.clock import Clock
from optbus.events import Event
from optbus.routing import subject_of
from optbus.runtime.bus import EventPublisher
from optbus_market_data.pacing import Speed, wait_seconds

_log = structlog.get_logger()


async def play(
    steps: Iterable[list[Event]], publisher: EventPublisher, speed: Speed, clock: Clock
) -> int:
    """Publish every step of a source, paced to ``speed``; returns how many events it sent.

    ``ts_init`` is stamped when a step is released, after its pacing wait: a source makes a
    step before it is due, and the latency we measure starts when the market would have it.
    """
    sent = 0
    previous_ns: int | None = None
    for events in steps:
        if not events:
            continue
        step_ns = events[0].ts_event
        delay = wait_seconds(speed, previous_ns, step_ns)
        if delay > 0:
            await asyncio.sleep(delay)
        released = clock.now_ns()
        await publisher.publish_all(
            [
                (subject_of(event), msgspec.structs.replace(event, ts_init=released))
                for event in events
            ]
        )
        sent += len(events)
        previous_ns = step_ns
    return sent
