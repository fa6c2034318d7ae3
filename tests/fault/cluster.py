"""A three-node JetStream cluster with R3 streams, the services on it, and what they stored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date

from optbus import subjects
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.servers import LocalNatsCluster

from ..integration.conftest import (
    RunningService,
    eventually,
    expected_rows,
    simulated_steps,
    start_greeks,
    start_persistence,
    start_risk,
)
from .session import (
    SteadyPublisher,
    Tally,
    after_the_fault,
    connect,
    engage_kill_switch,
    tally,
    wait_until_stored,
)

REPLICAS = 3
STEPS = 16


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
    """The bus migrated with R3 streams, then persistence, greeks and risk on the cluster."""
    await migrate_replicated(url)
    return [
        await start_persistence(url, database_url).ready(),
        await start_greeks(url).ready(),
        await start_risk(url).ready(),
    ]


async def session_with_a_fault(
    cluster: LocalNatsCluster,
    database_url: str,
    day: date,
    fault: Callable[[], Awaitable[None]],
) -> Tally:
    """A session on the cluster with ``fault`` half-way through, the kill switch engaged before
    it: what it stored, what was stuck, and the kill switch after."""
    steps = simulated_steps(day, STEPS, f"fault-cluster-{day.isoformat()}")
    services = await start_pipeline(cluster.url, database_url)
    try:
        await engage_kill_switch(cluster.url)
        publisher = SteadyPublisher(cluster.url)
        publishing = asyncio.create_task(publisher.publish(steps, pause=0.3))

        async def half_way() -> bool:
            return publisher.published >= sum(len(step) for step in steps[: STEPS // 2])

        await eventually(half_way, within=30)
        await fault()
        fault_over = time.monotonic()
        await publishing
        stored = await wait_until_stored(database_url, day, expected_rows(steps), within=90)
        print(f"\nevery tick stored {stored - fault_over:.1f} s after the fault ended")
        backlog, kill_switch = await after_the_fault(cluster.url, day)
    finally:  # a failed session's services must not go on loading the next test's host
        for service in services:
            await service.stop()
    return tally(database_url, day, expected_rows(steps), backlog, kill_switch)


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
