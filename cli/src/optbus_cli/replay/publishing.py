"""The recorded market events onto the replay bus, each once all the previous one caused is
handled (the lockstep), at the pace asked for."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterable

import msgspec

from optbus.codec import encode
from optbus.events import Event
from optbus.routing import subject_of
from optbus.runtime.lockstep import Lockstep, declared_consumers
from optbus.runtime.nats_security import connect as connect_nats
from optbus.subjects import MD_CHAINS, stream_of
from optbus_backtest.wiring import PIPELINE
from optbus_market_data.pacing import Speed, wait_seconds

_MARKET_DATA = stream_of(MD_CHAINS).name
"""The stream the replay alone publishes on: the lockstep counts its events as they are sent
instead of receiving a copy of each chain back."""

ProgressCallback = Callable[[int, int], None]
"""Called after each market step with how many events were sent and the market time (ns)."""


def _restamped(event: Event) -> Event:
    """The market event at replay time: ``ts_init`` from the replay clock, its ``ts_event``."""
    return msgspec.structs.replace(event, ts_init=event.ts_event)


async def read_ahead(steps: Iterable[list[Event]], depth: int = 256) -> AsyncIterator[list[Event]]:
    """``steps``, read and decoded in a thread ahead of the loop that publishes them."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[Event] | BaseException | None] = asyncio.Queue()
    room = threading.Semaphore(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for step in steps:
                room.acquire()
                if stop.is_set():
                    return
                loop.call_soon_threadsafe(queue.put_nowait, step)
        except BaseException as exc:  # handed to the consuming loop, which raises it
            loop.call_soon_threadsafe(queue.put_nowait, exc)
            return
        loop.call_soon_threadsafe(queue.put_nowait, None)

    producer = loop.run_in_executor(None, produce)
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            room.release()
            yield item
    finally:
        stop.set()
        room.release()
        await producer


async def publish_in_lockstep(
    steps: Iterable[list[Event]],
    nats_url: str,
    speed: Speed,
    settle_timeout: float,
    on_step: ProgressCallback | None = None,
) -> tuple[int, int, int, int]:
    """Publish each event once all the previous one caused is handled.

    Returns (events, steps, first and last market time in ns).
    """
    nc = await connect_nats(nats_url, connect_timeout=5)
    sent = count = first_ns = last_ns = 0
    previous_ns: int | None = None
    try:
        lockstep = Lockstep(declared_consumers(PIPELINE))
        await lockstep.watch(nc, own_streams=(_MARKET_DATA,))
        async for step in read_ahead(steps):
            if not step:
                continue
            delay = wait_seconds(speed, previous_ns, step[0].ts_event)
            if delay > 0:
                await asyncio.sleep(delay)
            for event in step:
                subject = subject_of(event)
                lockstep.sent(subject)
                await nc.publish(subject, encode(_restamped(event)),
                                 headers={"Nats-Msg-Id": event.event_id})  # fmt: skip
                await lockstep.settled(settle_timeout)
            sent += len(step)
            count += 1
            previous_ns = last_ns = step[0].ts_event
            first_ns = first_ns or previous_ns
            if on_step is not None:
                on_step(sent, previous_ns)
        await lockstep.stop()
    finally:
        await nc.close()
    return sent, count, first_ns, last_ns
