"""The running services create on the bus exactly the durable consumers they declare."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import DeliverPolicy

from optbus.runtime.service import ServiceRunner
from optbus.runtime.topology import ServiceTopology
from optbus.subjects import STREAM_NAMES
from optbus_cli.servers import LocalNats
from optbus_execution.main import ExecutionSettings
from optbus_execution.main import build_app as build_execution
from optbus_execution.topology import TOPOLOGY as EXECUTION
from optbus_greeks.topology import TOPOLOGY as GREEKS
from optbus_persistence.topology import TOPOLOGY as PERSISTENCE
from optbus_risk.main import RiskSettings
from optbus_risk.main import build_app as build_risk
from optbus_risk.topology import TOPOLOGY as RISK
from optbus_strategy.main import StrategySettings
from optbus_strategy.main import build_app as build_strategy
from optbus_strategy.topology import TOPOLOGY as STRATEGY

from .conftest import RunningService, start_greeks, start_persistence

pytestmark = pytest.mark.integration

Durable = tuple[str, str, str | None, DeliverPolicy]


@pytest.fixture
def fresh_nats(tmp_path: Path) -> Iterator[str]:
    server = LocalNats(tmp_path).start()
    yield server.url
    server.stop()


@pytest.fixture
async def running(fresh_nats: str, database_url: str) -> AsyncIterator[str]:
    """greeks, strategy, risk, execution and persistence running on a bus of their own."""
    settings: list[Any] = [
        StrategySettings(nats_url=fresh_nats, http_port=0),
        RiskSettings(nats_url=fresh_nats, http_port=0),
        ExecutionSettings(nats_url=fresh_nats, http_port=0),
    ]
    builders: list[Any] = [build_strategy, build_risk, build_execution]
    services = [
        await start_greeks(fresh_nats).ready(),
        await start_persistence(fresh_nats, database_url).ready(),
    ]
    for build, setting in zip(builders, settings, strict=True):
        services.append(await RunningService(ServiceRunner(build(setting), setting)).ready())
    yield fresh_nats
    for service in services:
        await service.stop()


def declared(topology: ServiceTopology[Any]) -> set[Durable]:
    policy = DeliverPolicy.ALL if topology.start_at == "first" else DeliverPolicy.NEW
    return {(c.stream, c.durable, c.subject, policy) for c in topology.consumers}


async def test_the_running_services_create_exactly_their_declared_durables(running: str) -> None:
    nc = await nats.connect(running)
    try:
        js = nc.jetstream()
        on_bus = {
            (stream, info.name, info.config.filter_subject, info.config.deliver_policy)
            for stream in STREAM_NAMES
            for info in await js.consumers_info(stream)
        }
    finally:
        await nc.close()

    expected = set().union(*(declared(t) for t in (GREEKS, PERSISTENCE, STRATEGY, RISK, EXECUTION)))
    assert on_bus == expected
