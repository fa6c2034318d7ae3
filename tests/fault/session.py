"""A session of market data published steadily through a fault, and what it stored."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import date

import nats
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from optbus.codec import encode
from optbus.events import Event
from optbus.routing import subject_of

from ..integration.conftest import eventually, query_one, ticks_on


async def connect(url: str) -> NATS:
    """A client of the server, or of every member of a cluster, that keeps reconnecting, as the
    services do."""
    return await nats.connect(
        url.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.2, connect_timeout=2
    )


@dataclass
class SteadyPublisher:
    """Publishes events one by one as market data does, retrying each until it is stored."""

    url: str
    published: int = 0
    retries: int = 0

    async def publish(self, steps: list[list[Event]], pause: float = 0.0) -> None:
        """Publish every event of ``steps``, pausing ``pause`` seconds between steps."""
        nc = await connect(self.url)
        js = nc.jetstream()
        for step in steps:
            for event in step:
                await self._publish_until_stored(js, event)
                self.published += 1
            await asyncio.sleep(pause)
        await nc.close()
        print(f"\npublished {self.published} events, {self.retries} publishes retried")

    async def _publish_until_stored(self, js: JetStreamContext, event: Event) -> None:
        """Publish until JetStream acknowledges; ``Nats-Msg-Id`` drops a repeat it stored."""
        while True:
            try:
                await js.publish(
                    subject_of(event),
                    encode(event),
                    headers={"Nats-Msg-Id": event.event_id},
                    timeout=2,
                )
                return
            except NatsError:
                self.retries += 1
                await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Tally:
    """Option ticks of one day: expected from what was published, and what the database holds."""

    published: int
    stored: int
    distinct: int

    @property
    def lost(self) -> int:
        return self.published - self.distinct

    @property
    def duplicated(self) -> int:
        return self.stored - self.distinct


def tally(database_url: str, day: date, published: int) -> Tally:
    """Count the day's rows, and the distinct options among them (one per option and time)."""
    stored, distinct = query_one(
        database_url,
        "SELECT count(*), count(DISTINCT (underlying, expiry, strike, option_type, time))"
        " FROM option_ticks WHERE time >= %s::date AND time < %s::date + 1",
        (day, day),
    )
    result = Tally(published, int(stored), int(distinct))  # type: ignore[call-overload]
    print(
        f"\noption ticks {day}: published {result.published}, stored {result.stored}, "
        f"lost {result.lost}, duplicated {result.duplicated}"
    )
    return result


async def wait_until_stored(database_url: str, day: date, rows: int, within: float) -> float:
    """Wait until ``rows`` ticks are stored or ``within`` seconds pass (the tally then says);
    return the monotonic time the wait ended."""

    async def done() -> bool:
        return ticks_on(database_url, day) >= rows

    with suppress(AssertionError):
        await eventually(done, within=within)
    ended = time.monotonic()
    await asyncio.sleep(2.0)  # anything redelivered late would land now
    return ended
