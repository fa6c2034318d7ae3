"""A three-node JetStream cluster with R3 streams loses a member, then everything, mid-session.

Events are published the whole time (each retried until stored, as market data would), and
every option of every snapshot must land in PostgreSQL exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from datetime import date
from pathlib import Path

import pytest

from optbus.runtime.migration import ensure_streams
from optbus.subjects import STREAMS
from optbus_cli.servers import LocalNatsCluster

from ..integration.conftest import eventually, expected_rows, simulated_steps, ticks_on
from .cluster import (
    REPLICAS,
    SteadyPublisher,
    Tally,
    connect,
    start_pipeline,
    stream_leader,
    tally,
)

pytestmark = pytest.mark.fault

STEPS = 16


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalNatsCluster]:
    nodes = LocalNatsCluster(tmp_path / "nats").start()
    yield nodes
    nodes.kill()


async def _wait_until_stored(database_url: str, day: date, rows: int, within: float) -> None:
    """Wait until ``rows`` ticks are stored or ``within`` seconds pass (the tally then says)."""

    async def done() -> bool:
        return ticks_on(database_url, day) >= rows

    with suppress(AssertionError):
        await eventually(done, within=within)
    await asyncio.sleep(2.0)  # anything redelivered late would land now


async def _session_with_a_fault(
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


async def test_killing_the_market_data_streams_leader_loses_and_doubles_no_option_tick(
    cluster: LocalNatsCluster, database_url: str
) -> None:
    async def kill_the_leader() -> None:
        cluster.member(await stream_leader(cluster.url, "MD")).kill()

    counted = await _session_with_a_fault(
        cluster, database_url, date(2026, 12, 14), kill_the_leader
    )

    assert (counted.lost, counted.duplicated) == (0, 0)


async def test_restarting_the_whole_cluster_loses_and_doubles_no_option_tick(
    cluster: LocalNatsCluster, database_url: str
) -> None:
    async def restart_every_member() -> None:
        cluster.kill()
        cluster.start()

    counted = await _session_with_a_fault(
        cluster, database_url, date(2026, 12, 15), restart_every_member
    )

    assert (counted.lost, counted.duplicated) == (0, 0)


async def test_migrating_again_without_replicas_keeps_the_streams_three_replicas(
    cluster: LocalNatsCluster,
) -> None:
    nc = await connect(cluster.url)
    js = nc.jetstream()
    for spec in STREAMS:
        await js.add_stream(spec.config(replicas=REPLICAS))
    await ensure_streams(js)
    replicas = {(await js.stream_info(spec.name)).config.num_replicas for spec in STREAMS}
    await nc.close()
    assert replicas == {REPLICAS}
