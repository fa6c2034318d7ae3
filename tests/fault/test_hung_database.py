"""PostgreSQL hangs under the persistence service (connections open, nothing answered): its
health check says so within a second instead of hanging with it; the kill switch engaged before
the hang is still engaged and obeyed by risk during it; and what was published during the hang
is stored, nothing left stuck and the kill switch still obeyed, once the database answers
again."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from datetime import date

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from optbus.runtime.service import ServiceRunner
from optbus_cli.servers import LocalNats, free_port
from optbus_persistence.main import PersistenceSettings, build_app

from ..integration.conftest import (
    RunningService,
    eventually,
    publish_events,
    query_one,
    simulated_steps,
    start_risk,
    stuck,
)
from ..proxy import StallingProxy
from .session import OBEYED, after_the_fault, engage_kill_switch, kill_switch_seen

pytestmark = [pytest.mark.fault, pytest.mark.timeout(120)]

DAY = date(2027, 1, 22)


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
    own_nats: LocalNats, database_url: str, database_proxy: StallingProxy
) -> AsyncIterator[int]:
    """Persistence writing through the proxy, and risk, on a bus of the test's own with the
    kill switch engaged."""
    proxied = make_conninfo(database_url, host="127.0.0.1", port=str(database_proxy.port))
    port = free_port()
    settings = PersistenceSettings(nats_url=own_nats.url, database_url=proxied, http_port=port)
    service = await RunningService(ServiceRunner(build_app(settings), settings)).ready()
    risk = await start_risk(own_nats.url).ready()
    await engage_kill_switch(own_nats.url)
    yield port
    await risk.stop()
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


async def test_an_engaged_kill_switch_is_still_obeyed_while_the_database_hangs(
    own_nats: LocalNats, persistence_port: int, database_proxy: StallingProxy
) -> None:
    database_proxy.stall()

    assert await kill_switch_seen(own_nats.url, DAY) == OBEYED


async def test_events_published_while_the_database_hangs_are_stored_once_it_answers_again(
    own_nats: LocalNats, database_url: str, persistence_port: int, database_proxy: StallingProxy
) -> None:
    events = [event for step in simulated_steps(DAY, 4, "fault-db-hung") for event in step]
    database_proxy.stall()
    await publish_events(own_nats.url, events)
    await asyncio.sleep(3.0)  # persistence's write hangs meanwhile

    database_proxy.resume()

    async def all_stored() -> bool:
        # In a thread: the proxy forwarding persistence's commit runs on this event loop.
        stored = await asyncio.to_thread(
            query_one, database_url,
            "SELECT count(*), count(DISTINCT event_id) FROM events WHERE event_id = ANY(%s)",
            ([event.event_id for event in events],),
        )  # fmt: skip
        return stored == (len(events), len(events))

    await eventually(all_stored, within=60)  # each once: none lost, none doubled
    backlog, kill_switch = await after_the_fault(own_nats.url, DAY)
    print(f"\n{len(events)} events stored; stuck {stuck(backlog)} on {len(backlog)} durables")
    assert stuck(backlog) == {}
    assert kill_switch == OBEYED  # engaged before the hang, still engaged and obeyed
