"""PostgreSQL goes away under the persistence service, stopped or cut off by the network:
nothing is lost, nothing doubled, nothing left stuck, and the kill switch engaged before the
outage is still engaged and obeyed by risk (which needs no database) after it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date

import pytest

from optbus_cli.servers import LocalNats, LocalPostgres

from ..integration.conftest import (
    eventually,
    publish_events,
    query_one,
    simulated_steps,
    start_persistence,
    start_risk,
    stuck,
)
from .conftest import postgres_of_our_own
from .network import Switch, requires_network_namespaces, switch_of
from .session import OBEYED, Tally, after_the_fault, engage_kill_switch

pytestmark = pytest.mark.fault

EVENTS = "SELECT count(*), count(DISTINCT (stream, seq)) FROM events WHERE stream = 'MD'"
"""The session's events (the kill switch's commands, intent and decision are in others)."""
LINK_DOWN_SECONDS = 20


@pytest.fixture
def switch() -> Iterator[Switch]:
    with switch_of(1) as hosts:
        yield hosts


@pytest.fixture
def postgres_on_a_link(switch: Switch) -> Iterator[tuple[LocalPostgres, str]]:
    """A PostgreSQL of the test's own in a network namespace: its link can be cut."""
    with postgres_of_our_own(switch.hosts[0]) as server_and_url:
        yield server_and_url


async def _stored_across(
    nats_url: str, database_url: str, day: date, outage: AbstractAsyncContextManager[None]
) -> Tally:
    """Events published, the second half of them during ``outage``, the kill switch engaged
    before: how many, the rows and distinct events stored once the database is back, what was
    stuck, and the kill switch after."""
    events = [event for step in simulated_steps(day, 20, f"fault-db-{day}") for event in step]
    services = [
        await start_persistence(nats_url, database_url).ready(),
        await start_risk(nats_url).ready(),
    ]
    await engage_kill_switch(nats_url)
    await publish_events(nats_url, events[: len(events) // 2])

    async def first_half_stored() -> bool:
        return query_one(database_url, EVENTS)[0] == len(events) // 2

    await eventually(first_half_stored)
    async with outage:
        await publish_events(nats_url, events[len(events) // 2 :])

    async def all_stored() -> bool:
        return query_one(database_url, EVENTS)[0] == len(events)

    await eventually(all_stored, within=90)
    backlog, kill_switch = await after_the_fault(nats_url, day)
    for service in services:
        await service.stop()
    stored, distinct = query_one(database_url, EVENTS)
    counted = Tally(
        len(events), int(stored), int(distinct),  # type: ignore[call-overload]
        stuck(backlog), len(backlog), kill_switch,
    )  # fmt: skip
    print(f"\nevents: {counted}")
    return counted


async def test_events_published_while_the_database_is_down_are_stored_once_it_is_back(
    own_nats: LocalNats, own_postgres: tuple[LocalPostgres, str]
) -> None:
    server, database_url = own_postgres

    @asynccontextmanager
    async def server_stopped() -> AsyncIterator[None]:
        server.stop()
        yield
        await asyncio.sleep(2.0)  # persistence tries, fails and naks while the database is down
        server.start()

    counted = await _stored_across(own_nats.url, database_url, date(2026, 12, 7), server_stopped())

    assert (counted.lost, counted.duplicated, counted.stuck) == (0, 0, {})
    assert counted.kill_switch == OBEYED  # engaged before the outage, still engaged and obeyed


@requires_network_namespaces()
async def test_events_published_while_the_database_link_is_cut_are_stored_once_it_is_back(
    own_nats: LocalNats, switch: Switch, postgres_on_a_link: tuple[LocalPostgres, str]
) -> None:
    server, database_url = postgres_on_a_link

    @asynccontextmanager
    async def link_cut() -> AsyncIterator[None]:
        switch.cut(server.host)
        yield
        await asyncio.sleep(LINK_DOWN_SECONDS)  # persistence's write hangs: no reset, no answer
        switch.mend(server.host)

    counted = await _stored_across(own_nats.url, database_url, date(2027, 1, 21), link_cut())

    assert (counted.lost, counted.duplicated, counted.stuck) == (0, 0, {})
    assert counted.kill_switch == OBEYED  # engaged before the cut, still engaged and obeyed
