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
from optbus.runtime.lockstep import Lockstep
from optbus_market_data.pacing import Speed, wait_seconds

_log = structlog.get_logger()

LOCKSTEP_PATIENCE_SECONDS = 120.0
"""How long an event may take to be handled in lockstep (greeks compiling its kernels on a
busy machine included) before the services count as stuck and the source stops."""


async def play(
    steps: Iterable[list[Event]],
    publisher: EventPublisher,
    speed: Speed,
    clock: Clock,
    lockstep: Lockstep | None = None,
    steps_ahead: int = 1,
) -> int:
    """Publish every step of a source, paced to ``speed``; returns how many events it sent.

    ``ts_init`` is stamped when a step is released, after its pacing wait: a source makes a
    step before it is due, and the latency we measure starts when the market would have it.

    With a ``lockstep``, the source also never runs more than ``steps_ahead`` steps ahead of
    the services it feeds: after each step it waits until they owe no more acks than that
    many steps bring, so at any speed they see each chain while it is current.
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
        if lockstep is not None:
            lockstep.expect(events[-1].event_id)
        released = clock.now_ns()
        await publisher.publish_all(
            [
                (subject_of(event), msgspec.structs.replace(event, ts_init=released))
                for event in events
            ]
        )
        if lockstep is not None:
            owed_by_step = sum(lockstep.owed_for(subject_of(event)) for event in events)
            await lockstep.settled(
                LOCKSTEP_PATIENCE_SECONDS, owed_at_most=(steps_ahead - 1) * owed_by_step
            )
        sent += len(events)
        previous_ns = step_ns
    return sent
