"""The message server hangs under a service (its connection open, nothing answered): the
service's health check says so within a second instead of hanging with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from optbus.runtime.service import ServiceRunner
from optbus_cli.servers import free_port
from optbus_greeks.main import GreeksSettings, build_app

from ..integration.conftest import RunningService
from ..proxy import StallingProxy
from .test_hung_database import _health

pytestmark = [pytest.mark.fault, pytest.mark.timeout(120)]


@pytest.fixture
async def nats_proxy(nats_url: str) -> AsyncIterator[StallingProxy]:
    target = urlsplit(nats_url)
    proxy = await StallingProxy(str(target.hostname), int(target.port or 4222)).start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def greeks_port(nats_proxy: StallingProxy) -> AsyncIterator[int]:
    port = free_port()
    settings = GreeksSettings(nats_url=f"nats://127.0.0.1:{nats_proxy.port}", http_port=port)
    service = await RunningService(ServiceRunner(build_app(settings), settings)).ready()
    yield port
    await nats_proxy.close()  # the hung connection ends, so the service can stop
    await service.stop()


async def test_healthz_answers_unhealthy_within_a_second_when_nats_hangs(
    greeks_port: int, nats_proxy: StallingProxy
) -> None:
    assert (await asyncio.to_thread(_health, greeks_port))[0] == 204
    nats_proxy.stall()

    status, body, took = await asyncio.to_thread(_health, greeks_port)

    assert (status, body) == (503, "nats: no answer within 0.6 s")
    assert took < 1.0
