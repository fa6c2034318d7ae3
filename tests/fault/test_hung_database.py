"""PostgreSQL hangs under the persistence service (connections open, nothing answered): its
health check says so within a second instead of hanging with it."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from optbus.runtime.service import ServiceRunner
from optbus_cli.servers import free_port
from optbus_persistence.main import PersistenceSettings, build_app

from ..integration.conftest import RunningService
from ..proxy import StallingProxy

pytestmark = [pytest.mark.fault, pytest.mark.timeout(120)]


def _health(port: int) -> tuple[int, str, float]:
    """The status and body of ``/healthz``, and how long the answer took."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            status, body = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, body, time.monotonic() - started


@pytest.fixture
async def database_proxy(database_url: str) -> AsyncIterator[StallingProxy]:
    target = conninfo_to_dict(database_url)
    proxy = await StallingProxy(str(target["host"]), int(target["port"])).start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def persistence_port(
    nats_url: str, database_url: str, database_proxy: StallingProxy
) -> AsyncIterator[int]:
    proxied = make_conninfo(database_url, host="127.0.0.1", port=str(database_proxy.port))
    port = free_port()
    settings = PersistenceSettings(nats_url=nats_url, database_url=proxied, http_port=port)
    service = await RunningService(ServiceRunner(build_app(settings), settings)).ready()
    yield port
    await database_proxy.close()  # the hung connections end, so the service can stop
    await service.stop()


async def test_healthz_answers_unhealthy_within_a_second_when_the_database_hangs(
    persistence_port: int, database_proxy: StallingProxy
) -> None:
    assert (await asyncio.to_thread(_health, persistence_port))[0] == 204
    database_proxy.stall()

    status, body, took = await asyncio.to_thread(_health, persistence_port)

    assert (status, body) == (503, "database: no answer within 0.6 s")
    assert took < 1.0
