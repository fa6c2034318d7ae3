"""Events are stored by their identity, not by their place on a bus: a JetStream store made
anew (its sequences starting again at 1) and a producer restarted after the duplicate window
lose nothing and store nothing twice."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import nats
import psycopg
import pytest
from prometheus_client import REGISTRY

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import Event, OptionChainSnapshot
from optbus.market import load_market_facts
from optbus.rates import DatedRate
from optbus.routing import subject_of
from optbus.subjects import STREAM_NAMES
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.servers import LocalNats
from optbus_greeks.domain import GreeksConfig
from optbus_greeks.handlers import price_snapshot
from optbus_greeks.topology import TOPOLOGY as GREEKS
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore
from optbus_persistence.topology import TOPOLOGY as PERSISTENCE

from ..conftest import fresh_database
from .conftest import (
    publish_events,
    query_one,
    simulated_steps,
    start_greeks,
    start_persistence,
    wait_until_consumed,
)

pytestmark = pytest.mark.integration

RESET_DAY = date(2027, 1, 12)
RESTART_DAY = date(2027, 1, 13)
MIGRATION_DAY = date(2027, 1, 15)
SHORT_WINDOW_SECONDS = 1.0


def _stored(database_url: str, events: list[Event]) -> int:
    """How many ``events`` rows the live run holds for these events (a copy counts again)."""
    (count,) = query_one(
        database_url,
        "SELECT count(*) FROM events WHERE run_id = 'live' AND event_id = ANY(%s)",
        ([event.event_id for event in events],),
    )
    assert isinstance(count, int)
    return count


async def _store_through(bus: LocalNats, database_url: str, events: list[Event]) -> None:
    """Run persistence on ``bus`` until it has stored what is published there."""
    persistence = await start_persistence(bus.url, database_url).ready()
    await publish_events(bus.url, events)
    await wait_until_consumed(bus.url, (PERSISTENCE,))
    await persistence.stop()


@pytest.fixture
async def after_a_reset(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[LocalNats, list[Event], list[Event]]]:
    """A new bus (a store of its own, sequences from 1), the events stored from the bus it
    replaces, and as many events never published."""
    steps = simulated_steps(RESET_DAY, 6, f"it-reset-{tmp_path.name}")
    stored, fresh = ([e for step in part for e in step] for part in (steps[:3], steps[3:]))
    lost = LocalNats(tmp_path / "lost-store").start()
    await migrate_bus(lost.url)
    try:
        await _store_through(lost, database_url, stored)
    finally:
        lost.stop()
    bus = LocalNats(tmp_path / "new-store").start()
    await migrate_bus(bus.url)
    yield bus, stored, fresh
    bus.stop()


async def test_every_event_published_on_a_new_jetstream_store_is_stored(
    after_a_reset: tuple[LocalNats, list[Event], list[Event]], database_url: str
) -> None:
    bus, _, fresh = after_a_reset

    await _store_through(bus, database_url, fresh)

    assert _stored(database_url, fresh) == len(fresh)


async def test_an_event_published_again_on_a_new_jetstream_store_is_stored_once(
    after_a_reset: tuple[LocalNats, list[Event], list[Event]], database_url: str
) -> None:
    bus, stored, fresh = after_a_reset

    await _store_through(bus, database_url, fresh + stored)

    assert _stored(database_url, stored) == len(stored)


def _duplicates_counted() -> float:
    """``optbus_persistence_duplicates_total`` over every stream, in this process (where the
    tests run persistence)."""
    return sum(
        REGISTRY.get_sample_value("optbus_persistence_duplicates_total", {"stream": stream}) or 0.0
        for stream in STREAM_NAMES
    )


async def test_an_event_published_again_on_a_new_jetstream_store_is_counted_as_a_duplicate(
    after_a_reset: tuple[LocalNats, list[Event], list[Event]], database_url: str
) -> None:
    bus, stored, fresh = after_a_reset
    before = _duplicates_counted()

    await _store_through(bus, database_url, fresh + stored)

    assert _duplicates_counted() - before == len(stored)


async def _shorten_duplicate_windows(nats_url: str, streams: tuple[str, ...]) -> None:
    """Make JetStream forget message ids after a second, as it does after two minutes."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for stream in streams:
        config = (await js.stream_info(stream)).config
        await js.update_stream(replace(config, duplicate_window=SHORT_WINDOW_SECONDS))
    await nc.close()


async def test_a_producer_publishing_again_after_the_duplicate_window_doubles_no_option_tick(
    tmp_path: Path, database_url: str
) -> None:
    bus = LocalNats(tmp_path / "nats").start()
    await migrate_bus(bus.url)
    services = [
        await start_persistence(bus.url, database_url).ready(),
        await start_greeks(bus.url).ready(),
    ]
    await _shorten_duplicate_windows(bus.url, ("MD", "ANALYTICS"))
    events = [e for step in simulated_steps(RESTART_DAY, 3, "it-restart") for e in step]
    await publish_events(bus.url, events)
    await wait_until_consumed(bus.url, (PERSISTENCE, GREEKS))
    await asyncio.sleep(3 * SHORT_WINDOW_SECONDS)

    await publish_events(bus.url, events)

    await wait_until_consumed(bus.url, (PERSISTENCE, GREEKS))
    for service in services:
        await service.stop()
    bus.stop()
    rows, contracts = query_one(
        database_url,
        "SELECT count(*), count(DISTINCT (time, underlying, expiry, strike, option_type)) "
        "FROM option_ticks WHERE time >= %s::date AND time < %s::date + 1",
        (RESTART_DAY, RESTART_DAY),
    )
    assert rows == contracts


def _store_twice_at_new_sequences(database_url: str, events: list[Event]) -> None:
    """What the writer before event identity did with events published again."""
    store = EventStore(database_url)
    for first_seq in (1, len(events) + 1):
        store.write([
            decode_stored(BusMessage("ANALYTICS", seq, subject_of(e), encode(e), e.ts_event, None))
            for seq, e in enumerate(events, start=first_seq)
        ])  # fmt: skip
    store.close()


def test_migrating_a_database_that_stored_events_twice_keeps_one_copy_of_each(
    postgres_admin_url: str,
) -> None:
    snapshot = next(e for e in simulated_steps(MIGRATION_DAY, 1, "it-migrate")[0]
                    if isinstance(e, OptionChainSnapshot))  # fmt: skip
    facts = load_market_facts()
    config = GreeksConfig(rate_at=DatedRate(facts), expiry_close_ns=facts.expiry_close_ns)
    chains: list[Event] = list(price_snapshot(snapshot, config, ReplayClock(snapshot.ts_event)))
    with fresh_database(postgres_admin_url, f"optbus_identity_{os.getpid()}") as url:
        migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP INDEX events_run_event_id, option_ticks_contract_time_key")
        _store_twice_at_new_sequences(url, chains)

        migrate(url)

        copies = query_one(
            url,
            "SELECT (SELECT count(*) - count(DISTINCT event_id) FROM events), "
            "(SELECT count(*) - count(DISTINCT (time, underlying, expiry, strike, option_type)) "
            "FROM option_ticks)",
        )
    assert copies == (0, 0)
