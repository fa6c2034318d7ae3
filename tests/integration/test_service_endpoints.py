"""Every service serves Prometheus metrics and a health check over HTTP."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator

import pytest

from optbus.runtime.service import ServiceRunner
from optbus_cli.servers import free_port
from optbus_greeks.main import GreeksSettings, build_app

from .conftest import RunningService

pytestmark = pytest.mark.integration


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


@pytest.fixture
async def greeks_port(nats_url: str) -> AsyncIterator[int]:
    port = free_port()
    settings = GreeksSettings(nats_url=nats_url, http_port=port)
    service = await RunningService(ServiceRunner(build_app(settings), settings)).ready()
    yield port
    await service.stop()


async def test_a_running_service_reports_healthy(greeks_port: int) -> None:
    status, _ = await asyncio.to_thread(_get, f"http://127.0.0.1:{greeks_port}/healthz")

    assert status == 204


async def test_a_running_service_exports_optbus_metrics(greeks_port: int) -> None:
    _, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{greeks_port}/metrics")

    assert 'optbus_up{service="greeks"} 1.0' in body
    assert "optbus_greeks_chain_pricing_seconds_bucket" in body


async def test_a_running_service_exports_its_consumers_lag(greeks_port: int) -> None:
    _, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{greeks_port}/metrics")

    assert 'optbus_consumer_pending_messages{consumer="greeks",service="greeks"}' in body
    assert 'optbus_consumer_ack_pending_messages{consumer="greeks",service="greeks"}' in body


async def test_a_running_service_exports_nats_as_up(greeks_port: int) -> None:
    _, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{greeks_port}/metrics")

    assert 'optbus_dependency_up{dependency="nats",service="greeks"} 1.0' in body


async def test_a_running_service_exports_its_dead_letters_series_before_the_first(
    greeks_port: int,
) -> None:
    _, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{greeks_port}/metrics")

    # The series exists from the start (at 0 in a fresh process; the test session's other
    # greeks services, in this same process, may have parked messages already).
    assert 'optbus_dead_letters_total{consumer="greeks",service="greeks"} ' in body
