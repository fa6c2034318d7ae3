"""A three-node JetStream cluster with R3 streams loses a member, then everything, mid-session.

Events are published the whole time (each retried until stored, as market data would), and
every option of every snapshot must land in PostgreSQL exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from optbus.control import KillSwitchState
from optbus.runtime.control_state import read_kill_switch, write_kill_switch
from optbus.runtime.migration import ensure_streams
from optbus.subjects import KILLSWITCH_BUCKET, MODELS_BUCKET, STREAMS
from optbus_cli.servers import LocalNatsCluster

from ..integration.conftest import eventually
from .cluster import REPLICAS, migrate_replicated, session_with_a_fault, stream_leader
from .session import OBEYED, connect

pytestmark = pytest.mark.fault


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalNatsCluster]:
    nodes = LocalNatsCluster(tmp_path / "nats").start()
    yield nodes
    nodes.kill()


async def test_killing_the_market_data_streams_leader_loses_and_doubles_no_option_tick(
    cluster: LocalNatsCluster, database_url: str
) -> None:
    async def kill_the_leader() -> None:
        cluster.member(await stream_leader(cluster.url, "MD")).kill()

    counted = await session_with_a_fault(cluster, database_url, date(2026, 12, 14), kill_the_leader)

    assert (counted.lost, counted.duplicated, counted.stuck) == (0, 0, {})
    assert counted.kill_switch == OBEYED  # engaged before the fault, still engaged and obeyed


async def test_restarting_the_whole_cluster_loses_and_doubles_no_option_tick(
    cluster: LocalNatsCluster, database_url: str
) -> None:
    async def restart_every_member() -> None:
        cluster.kill()
        cluster.start()

    counted = await session_with_a_fault(
        cluster, database_url, date(2026, 12, 15), restart_every_member
    )

    assert (counted.lost, counted.duplicated, counted.stuck) == (0, 0, {})
    assert counted.kill_switch == OBEYED  # engaged before the fault, still engaged and obeyed


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


async def test_the_buckets_migrated_with_three_replicas_are_held_by_three_members(
    cluster: LocalNatsCluster,
) -> None:
    await migrate_replicated(cluster.url)
    nc = await connect(cluster.url)
    js = nc.jetstream()
    buckets = (f"KV_{KILLSWITCH_BUCKET}", f"OBJ_{MODELS_BUCKET}")
    replicas = {(await js.stream_info(stream)).config.num_replicas for stream in buckets}
    await nc.close()
    assert replicas == {REPLICAS}


async def test_an_engaged_kill_switch_is_still_read_after_its_buckets_leader_is_killed(
    cluster: LocalNatsCluster,
) -> None:
    await migrate_replicated(cluster.url)
    nc = await connect(cluster.url)
    engaged = KillSwitchState(
        engaged=True, operator="ops", reason="fault test", flatten=False, since_ns=1
    )
    await write_kill_switch(nc.jetstream(), engaged)
    await nc.close()
    cluster.member(await stream_leader(cluster.url, f"KV_{KILLSWITCH_BUCKET}")).kill()
    nc = await connect(cluster.url)
    readings = []

    async def read_engaged() -> bool:
        readings.append(await read_kill_switch(nc.jetstream()))
        return readings[-1] == engaged

    # Until the two members left elect a leader, a read fails (and reads as halted).
    await eventually(read_engaged, within=30)
    await nc.close()
    assert readings[-1] == engaged
