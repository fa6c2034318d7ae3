"""``optbus bus migrate`` creates on the bus exactly the consumers the services declare, in the
declared order, the services run on them, and the backtest runs the pure ones among them in
that same order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import ConsumerInfo, DeliverPolicy

from optbus.market import load_market_facts
from optbus.runtime.service import ServiceRunner
from optbus.runtime.topology import ServiceTopology
from optbus.subjects import STREAM_NAMES
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import Backtest
from optbus_backtest.wiring import PIPELINE
from optbus_cli.topologies import TOPOLOGIES, topology_of
from optbus_execution.main import ExecutionSettings
from optbus_execution.main import build_app as build_execution
from optbus_risk.main import RiskSettings
from optbus_risk.main import build_app as build_risk
from optbus_strategy.main import StrategySettings
from optbus_strategy.main import build_app as build_strategy

from ..conftest import migrated_nats
from .conftest import RunningService, start_greeks, start_persistence

pytestmark = pytest.mark.integration

ACK_WAIT_AND_MAX_PENDING = {
    "greeks": (30.0, 8 * 64),
    "strategy": (30.0, 1000),
    "risk": (30.0, 1000),
    "execution": (30.0, 1000),
    "persistence": (60.0, 4 * 200),
    "trainer": (30.0, 1000),
}
"""What each service's topology declares for its durables (greeks keeps eight default batches
in flight, persistence four, the others JetStream's usual 1000)."""


@pytest.fixture
def fresh_nats(tmp_path: Path) -> Iterator[str]:
    with migrated_nats(tmp_path) as server:
        yield server.url


def _start(build: Any, settings: Any) -> RunningService:
    return RunningService(ServiceRunner(build(settings), settings))


@pytest.fixture
async def consumers_on_bus(fresh_nats: str, database_url: str) -> AsyncIterator[list[ConsumerInfo]]:
    """Every durable consumer on a migrated bus once the pipeline services and persistence
    started on it, oldest first."""
    services = [
        await start_greeks(fresh_nats).ready(),
        await _start(build_strategy, StrategySettings(nats_url=fresh_nats, http_port=0)).ready(),
        await _start(build_risk, RiskSettings(nats_url=fresh_nats, http_port=0)).ready(),
        await _start(build_execution, ExecutionSettings(nats_url=fresh_nats, http_port=0)).ready(),
        await start_persistence(fresh_nats, database_url).ready(),
    ]
    nc = await nats.connect(fresh_nats)
    try:
        js = nc.jetstream()
        infos = [
            info
            for stream in STREAM_NAMES
            for info in await js.consumers_info(stream)
            if info.config.durable_name is not None  # not a history read's ephemeral consumer
        ]
    finally:
        await nc.close()
    yield sorted(infos, key=lambda info: info.created or "")
    for service in services:
        await service.stop()


def _owner(info: ConsumerInfo, topologies: list[ServiceTopology[Any]]) -> str:
    [owner] = [t.service for t in topologies if info.name in {c.durable for c in t.consumers}]
    return owner


async def test_the_migration_creates_the_declared_consumers_in_the_declared_order(
    consumers_on_bus: list[ConsumerInfo],
) -> None:
    on_bus = [
        (info.stream_name, info.name, info.config.filter_subject) for info in consumers_on_bus
    ]

    declared = [(c.stream, c.durable, c.subject) for t in TOPOLOGIES for c in t.consumers]
    assert on_bus == declared


async def test_each_consumer_starts_where_its_service_declares_and_pulls_as_configured(
    consumers_on_bus: list[ConsumerInfo],
) -> None:
    for info in consumers_on_bus:
        owner = topology_of(_owner(info, list(TOPOLOGIES)))
        policy = DeliverPolicy.ALL if owner.start_at == "first" else DeliverPolicy.NEW
        ack_wait, max_pending = ACK_WAIT_AND_MAX_PENDING[owner.service]
        assert info.config.deliver_policy == policy, info.name
        assert (info.config.ack_wait, info.config.max_ack_pending) == (ack_wait, max_pending)


async def test_the_backtest_runs_the_live_pure_consumers_in_the_live_order(
    consumers_on_bus: list[ConsumerInfo],
) -> None:
    live_only = {"strategy-models", "risk-killswitch"}
    pipeline = {c.durable for t in PIPELINE for c in t.consumers}
    live = [
        (info.name, info.config.filter_subject)
        for info in consumers_on_bus
        if info.name in pipeline and info.name not in live_only
    ]

    backtest = Backtest(BacktestConfig(), load_market_facts()).bus.subscriptions

    assert [(s.name, s.pattern) for s in backtest] == live
