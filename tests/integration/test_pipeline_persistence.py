"""Snapshots through greeks into PostgreSQL: every option a row, exactly once, bad input parked."""

from __future__ import annotations

import asyncio
from datetime import date

import nats
import pytest

from optbus.events import OptionChainSnapshot
from optbus.subjects import md_chain
from optbus_cli.bus_migration import migrate as migrate_bus

from .conftest import (
    eventually,
    expected_rows,
    publish_events,
    publish_raw,
    query_one,
    simulated_steps,
    start_greeks,
    start_persistence,
    ticks_on,
    wait_for_rows,
)

pytestmark = pytest.mark.integration


async def test_every_option_of_every_snapshot_becomes_exactly_one_tick_row(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    day = date(2026, 12, 1)
    steps = simulated_steps(day, 5, "it-every-option")

    await publish_events(nats_url, [event for step in steps for event in step])

    await wait_for_rows(database_url, day, expected_rows(steps))
    await asyncio.sleep(1.0)
    assert ticks_on(database_url, day) == expected_rows(steps)


async def test_no_stored_option_with_an_implied_volatility_lacks_a_greek(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    day = date(2026, 12, 2)
    steps = simulated_steps(day, 3, "it-greeks-present")

    await publish_events(nats_url, [event for step in steps for event in step])

    await wait_for_rows(database_url, day, expected_rows(steps))
    with_iv, missing_greek = query_one(
        database_url,
        "SELECT count(iv), count(*) FILTER (WHERE iv IS NOT NULL AND (delta IS NULL OR "
        "gamma IS NULL OR theta IS NULL OR vega IS NULL OR rho IS NULL)) FROM option_ticks "
        "WHERE time >= %s::date AND time < %s::date + 1",
        (day, day),
    )
    assert with_iv > 0  # type: ignore[operator]
    assert missing_greek == 0


async def _persistence_caught_up(nats_url: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        infos = [await js.consumer_info(stream, durable) for stream, durable in _DURABLES]
    finally:
        await nc.close()
    return all(info.num_pending == 0 and info.num_ack_pending == 0 for info in infos)


_DURABLES = (("MD", "persistence-md-md"), ("ANALYTICS", "persistence-analytics-greeks"))


async def test_a_forced_redelivery_of_every_message_adds_no_row(
    nats_url: str, database_url: str
) -> None:
    day = date(2026, 12, 3)
    steps = simulated_steps(day, 3, "it-redelivery")
    greeks = await start_greeks(nats_url).ready()
    persistence = await start_persistence(nats_url, database_url).ready()
    await publish_events(nats_url, [event for step in steps for event in step])

    await wait_for_rows(database_url, day, expected_rows(steps))
    await eventually(lambda: _persistence_caught_up(nats_url))
    events_before = query_one(database_url, "SELECT count(*) FROM events")[0]
    await persistence.stop()
    nc = await nats.connect(nats_url)
    for stream, durable in _DURABLES:
        await nc.jetstream().delete_consumer(stream, durable)
    await nc.close()
    await migrate_bus(nats_url)  # makes them again, from the start of their streams

    persistence = await start_persistence(nats_url, database_url).ready()
    await eventually(lambda: _persistence_caught_up(nats_url))

    assert ticks_on(database_url, day) == expected_rows(steps)
    assert query_one(database_url, "SELECT count(*) FROM events")[0] == events_before
    await persistence.stop()
    await greeks.stop()


async def test_a_malformed_snapshot_is_dead_lettered_and_the_next_one_still_persists(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    day = date(2026, 12, 4)
    steps = simulated_steps(day, 1, "it-dead-letter")
    chain = next(e for e in steps[0] if isinstance(e, OptionChainSnapshot))
    bad_subject = md_chain(chain.underlying, chain.expiry)

    await publish_raw(nats_url, [(bad_subject, b'{"type":"md.chain","spot":')])
    await publish_events(nats_url, steps[0])

    async def parked_by_greeks() -> bool:
        (count,) = query_one(
            database_url,
            "SELECT count(*) FROM events WHERE type = 'dlq.message' "
            "AND payload->>'original_subject' = %s AND payload->>'consumer' = 'greeks' "
            "AND payload->>'reason' LIKE 'malformed JSON%%'",
            (bad_subject,),
        )
        return bool(count)

    await eventually(parked_by_greeks)
    await wait_for_rows(database_url, day, expected_rows(steps))
    assert ticks_on(database_url, day) == expected_rows(steps)
