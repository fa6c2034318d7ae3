"""A three-node JetStream cluster with R3 streams, the services on it, and what they stored."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

import nats
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from optbus import subjects
from optbus.codec import encode
from optbus.events import Event
from optbus.routing import subject_of
from optbus_cli.bus_migration import migrate as migrate_bus

from ..integration.conftest import (
    RunningService,
    eventually,
    query_one,
    start_greeks,
    start_persistence,
)

REPLICAS = 3


async def connect(url: str) -> NATS:
    """A client of every member of the cluster that keeps reconnecting, as the services do."""
    return await nats.connect(
        url.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.2, connect_timeout=2
    )


async def migrate_replicated(url: str) -> None:
    """Migrate the cluster's bus with three replicas a stream, as production's migration job
    does (``optbus bus migrate --replicas 3``), and wait until every replica has caught up."""
    await migrate_bus(url.split(",")[0], replicas=REPLICAS)
    nc = await connect(url)
    js = nc.jetstream()

    async def all_current() -> bool:
        for spec in subjects.STREAMS:
            info = await js.stream_info(spec.name)
            peers = info.cluster.replicas if info.cluster else None
            if info.config.num_replicas != REPLICAS or not peers:
                return False
            if len(peers) != REPLICAS - 1 or not all(peer.current for peer in peers):
                return False
        return True

    await eventually(all_current, within=30)
    await nc.close()


async def stream_leader(url: str, stream: str) -> str:
    """The name of the member that leads ``stream``."""
    nc = await connect(url)
    info = await nc.jetstream().stream_info(stream)
    await nc.close()
    assert info.cluster is not None
    leader: str | None = info.cluster.leader
    assert leader is not None
    return leader


async def start_pipeline(url: str, database_url: str) -> list[RunningService]:
    """The bus migrated with R3 streams, then persistence and greeks on the cluster."""
    await migrate_replicated(url)
    return [
        await start_persistence(url, database_url).ready(),
        await start_greeks(url).ready(),
    ]


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
