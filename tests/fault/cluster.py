"""A three-node JetStream cluster with R3 streams, the services on it, and what they stored."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
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
from optbus_cli.servers import LocalNatsCluster

from ..integration.conftest import (
    RunningService,
    eventually,
    expected_rows,
    query_one,
    simulated_steps,
    start_greeks,
    start_persistence,
    ticks_on,
)

REPLICAS = 3
STEPS = 16


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


async def _wait_until_stored(database_url: str, day: date, rows: int, within: float) -> None:
    """Wait until ``rows`` ticks are stored or ``within`` seconds pass (the tally then says)."""

    async def done() -> bool:
        return ticks_on(database_url, day) >= rows

    with suppress(AssertionError):
        await eventually(done, within=within)
    await asyncio.sleep(2.0)  # anything redelivered late would land now


async def session_with_a_fault(
    cluster: LocalNatsCluster,
    database_url: str,
    day: date,
    fault: Callable[[], Awaitable[None]],
) -> Tally:
    """A session on the cluster with ``fault`` half-way through, and what it stored."""
    steps = simulated_steps(day, STEPS, f"fault-cluster-{day.isoformat()}")
    services = await start_pipeline(cluster.url, database_url)
    publisher = SteadyPublisher(cluster.url)
    publishing = asyncio.create_task(publisher.publish(steps, pause=0.3))

    async def half_way() -> bool:
        return publisher.published >= sum(len(step) for step in steps[: STEPS // 2])

    await eventually(half_way, within=30)
    await fault()
    await publishing
    await _wait_until_stored(database_url, day, expected_rows(steps), within=45)
    for service in services:
        await service.stop()
    return tally(database_url, day, expected_rows(steps))


StreamState = tuple[int, int, int]
"""A replica's messages, first sequence and last sequence."""


def replica_states(cluster: LocalNatsCluster, member: str) -> dict[str, StreamState]:
    """Each declared stream as member ``member``'s own replica holds it, by stream name (the
    buckets' streams are left out: they are not replicated)."""
    report = cluster.jetstream_report(member, "streams=true")
    return {
        stream["name"]: (
            stream["state"]["messages"],
            stream["state"]["first_seq"],
            stream["state"]["last_seq"],
        )
        for account in report.get("account_details", [])
        for stream in account.get("stream_detail", [])
        if stream["name"] in subjects.STREAM_NAMES
    }


async def wait_until_replicas_agree(cluster: LocalNatsCluster, within: float) -> None:
    """Wait until every member holds every stream exactly as the others do."""
    states: list[dict[str, StreamState]] = []

    async def agree() -> bool:
        states[:] = [replica_states(cluster, f"n{index}") for index in range(cluster.size)]
        return len(states[0]) == len(subjects.STREAMS) and all(s == states[0] for s in states)

    try:
        await eventually(agree, within=within, interval=1.0)
    finally:
        print(f"\nreplicas (messages, first seq, last seq) by member: {states}")
