"""PostgreSQL goes away under the persistence service: nothing is lost, nothing doubled."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from optbus_cli.servers import LocalNats, LocalPostgres

from ..integration.conftest import (
    eventually,
    publish_events,
    query_one,
    simulated_steps,
    start_persistence,
)

pytestmark = pytest.mark.fault

EVENTS = "SELECT count(*), count(DISTINCT (stream, seq)) FROM events"


async def test_events_published_while_the_database_is_down_are_stored_once_it_is_back(
    own_nats: LocalNats, own_postgres: tuple[LocalPostgres, str]
) -> None:
    server, database_url = own_postgres
    steps = simulated_steps(date(2026, 12, 7), 20, "fault-db-outage")
    events = [event for step in steps for event in step]
    persistence = await start_persistence(own_nats.url, database_url).ready()
    await publish_events(own_nats.url, events[: len(events) // 2])

    async def first_half_stored() -> bool:
        return query_one(database_url, EVENTS)[0] == len(events) // 2

    await eventually(first_half_stored)
    server.stop()
    await publish_events(own_nats.url, events[len(events) // 2 :])
    await asyncio.sleep(2.0)  # persistence tries, fails and naks while the database is down
    server.start()

    async def all_stored() -> bool:
        return query_one(database_url, EVENTS)[0] == len(events)

    await eventually(all_stored, within=90)
    await persistence.stop()
    assert query_one(database_url, EVENTS) == (len(events), len(events))
