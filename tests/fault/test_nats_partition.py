"""One member of a three-node JetStream cluster is cut off the network for 30 s mid-session.

Every member runs in a network namespace of its own (``network.py``): the cut member's link
goes down, so its peers and clients see it fall silent, not refuse. Events are published the
whole time (each retried until stored, as market data would); every option of every snapshot
must land in PostgreSQL exactly once, and the member must catch up once its link is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from optbus_cli.servers import LocalNatsCluster

from .cluster import REPLICAS, session_with_a_fault, stream_leader, wait_until_replicas_agree
from .network import Switch, requires_network_namespaces, switch_of
from .session import OBEYED

pytestmark = [pytest.mark.fault, requires_network_namespaces()]

PARTITION_SECONDS = 30


@pytest.fixture
def switch() -> Iterator[Switch]:
    with switch_of(REPLICAS) as hosts:
        yield hosts


@pytest.fixture
def cluster(tmp_path: Path, switch: Switch) -> Iterator[LocalNatsCluster]:
    nodes = LocalNatsCluster(tmp_path / "nats", hosts=tuple(switch.hosts)).start()
    yield nodes
    nodes.kill()


async def _partition(switch: Switch, cluster: LocalNatsCluster, member: str) -> None:
    """Cut ``member`` off for ``PARTITION_SECONDS``, then bring its link back."""
    host = cluster.member(member).host
    switch.cut(host)
    print(f"\n{member} cut off for {PARTITION_SECONDS} s")
    await asyncio.sleep(PARTITION_SECONDS)
    switch.mend(host)


async def test_cutting_off_the_market_data_streams_leader_loses_and_doubles_no_option_tick(
    switch: Switch, cluster: LocalNatsCluster, database_url: str
) -> None:
    async def cut_off_the_leader() -> None:
        await _partition(switch, cluster, await stream_leader(cluster.url, "MD"))

    counted = await session_with_a_fault(
        cluster, database_url, date(2027, 1, 18), cut_off_the_leader
    )

    assert (counted.lost, counted.duplicated, counted.stuck) == (0, 0, {})
    assert counted.kill_switch == OBEYED  # engaged before the fault, still engaged and obeyed
    await wait_until_replicas_agree(cluster, within=30)


async def test_cutting_off_a_follower_loses_and_doubles_no_option_tick(
    switch: Switch, cluster: LocalNatsCluster, database_url: str
) -> None:
    async def cut_off_a_follower() -> None:
        leader = await stream_leader(cluster.url, "MD")
        follower = next(f"n{i}" for i in range(REPLICAS) if f"n{i}" != leader)
        await _partition(switch, cluster, follower)

    counted = await session_with_a_fault(
        cluster, database_url, date(2027, 1, 19), cut_off_a_follower
    )

    assert (counted.lost, counted.duplicated, counted.stuck) == (0, 0, {})
    assert counted.kill_switch == OBEYED  # engaged before the fault, still engaged and obeyed
    await wait_until_replicas_agree(cluster, within=30)
