"""In-process services against the real servers, and small helpers to drive them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import nats
import psycopg
import pytest
from nats.js.api import ConsumerInfo

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import Event, OptionChainSnapshot
from optbus.market import load_market_facts
from optbus.routing import subject_of
from optbus.runtime.service import ServiceRunner
from optbus.runtime.topology import ServiceTopology
from optbus.subjects import STREAM_NAMES
from optbus_greeks.main import GreeksSettings
from optbus_greeks.main import build_app as build_greeks
from optbus_greeks.topology import TOPOLOGY as GREEKS
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig
from optbus_persistence.main import PersistenceSettings
from optbus_persistence.main import build_app as build_persistence
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.store import EventStore
from optbus_persistence.topology import TOPOLOGY as PERSISTENCE
from optbus_risk.main import RiskSettings
from optbus_risk.main import build_app as build_risk


class RunningService:
    """A service app running as a task of the test's event loop."""

    def __init__(self, runner: ServiceRunner) -> None:
        self.runner = runner
        self.task = asyncio.create_task(runner.serve())

    async def ready(self, within: float = 30.0) -> RunningService:
        """Wait until the service consumes (its streams exist from then on)."""
        deadline = time.monotonic() + within
        while not self.runner.started:
            if self.task.done() or time.monotonic() > deadline:
                raise AssertionError("service did not start")
            await asyncio.sleep(0.05)
        return self

    async def stop(self) -> None:
        self.runner.request_stop()
        await asyncio.wait_for(self.task, timeout=30)


def start_greeks(nats_url: str) -> RunningService:
    settings = GreeksSettings(nats_url=nats_url, http_port=0)
    return RunningService(ServiceRunner(build_greeks(settings), settings))


def start_risk(nats_url: str) -> RunningService:
    settings = RiskSettings(nats_url=nats_url, http_port=0)
    return RunningService(ServiceRunner(build_risk(settings), settings))


def start_persistence(nats_url: str, database_url: str) -> RunningService:
    settings = PersistenceSettings(
        nats_url=nats_url, database_url=database_url, http_port=0, retry_delay_seconds=0.5
    )
    return RunningService(ServiceRunner(build_persistence(settings), settings))


PERSISTENCE_DURABLES = frozenset(consumer.durable for consumer in PERSISTENCE.consumers)
"""The durable consumers of persistence."""
PIPELINE_DURABLES = PERSISTENCE_DURABLES | {consumer.durable for consumer in GREEKS.consumers}
"""The durable consumers of greeks and persistence (the ``pipeline`` fixture)."""


@pytest.fixture
async def pipeline(nats_url: str, database_url: str) -> AsyncIterator[None]:
    """greeks and persistence running against the test servers."""
    services = [
        await start_persistence(nats_url, database_url).ready(),
        await start_greeks(nats_url).ready(),
    ]
    yield
    for service in services:
        await service.stop()


def simulated_steps(start: date, steps: int, run_id: str) -> list[list[Event]]:
    """``steps`` market steps of a simulated session (each: every chain and the VIX)."""
    config = SimulatorConfig(seed=11, run_id=run_id, start_date=start, days=1)
    ticks = ChainSimulator(config, load_market_facts(), ReplayClock()).ticks()
    return [next(ticks) for _ in range(steps)]


async def publish_raw(nats_url: str, messages: list[tuple[str, bytes]]) -> None:
    """Publish bytes to JetStream as any other client would."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for subject, data in messages:
        await js.publish(subject, data)
    await nc.close()


async def publish_events(nats_url: str, events: list[Event]) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for event in events:
        await js.publish(subject_of(event), encode(event), headers={"Nats-Msg-Id": event.event_id})
    await nc.close()


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 60.0, interval: float = 0.2
) -> None:
    """Wait until ``check`` holds; fail with the timeout otherwise."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within} s")


def store_trading_events(database_url: str, events: list[Event]) -> None:
    """Store ``events`` with the persistence writer, as the TRADING stream delivers them."""
    store = EventStore(database_url)
    try:
        store.write([
            decode_stored(BusMessage("TRADING", seq, subject_of(event), encode(event),
                                     event.ts_event, event.event_id))
            for seq, event in enumerate(events, start=1)
        ])  # fmt: skip
    finally:
        store.close()


def query_one(database_url: str, sql: str, params: tuple[object, ...] = ()) -> tuple[object, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return tuple(row)


def ticks_on(database_url: str, day: date) -> int:
    """Rows of ``option_ticks`` on one (UTC) day."""
    (count,) = query_one(
        database_url,
        "SELECT count(*) FROM option_ticks WHERE time >= %s::date AND time < %s::date + 1",
        (day, day),
    )
    return int(count)  # type: ignore[call-overload]


def expected_rows(steps: list[list[Event]]) -> int:
    """One row per option of every snapshot of ``steps``."""
    return sum(
        2 * len(event.strikes)
        for step in steps
        for event in step
        if isinstance(event, OptionChainSnapshot)
    )


async def wait_for_rows(database_url: str, day: date, rows: int, within: float = 60.0) -> None:
    """Wait until ``day`` holds at least ``rows`` option ticks."""

    async def enough() -> bool:
        return ticks_on(database_url, day) >= rows

    await eventually(enough, within=within)


Backlog = dict[str, tuple[int, int]]
"""Each durable consumer's messages pending and acknowledged-pending (delivered, not acked)."""


async def durable_backlog(
    nats_url: str,
    within: float = 60.0,
    interval: float = 0.5,
    durables: Collection[str] | None = None,
) -> Backlog:
    """Wait until no durable consumer on the bus (of every member of a cluster, comma-separated)
    has a message pending or unacknowledged on two polls in a row (a letter a consumer parks
    between reading one stream's consumers and the next's is seen by the second), or until
    ``within`` seconds pass; every durable's (pending, unacked) as last seen, the evidence.
    ``durables`` limits it to those names (on a bus other tests' services left durables on);
    without it, every durable some client pulls or pulled from (``optbus bus migrate`` makes
    the durables of every service, and those of services the test does not run wait unread)."""
    nc = await nats.connect(nats_url.split(","))
    js = nc.jetstream()
    seen: Backlog = {}
    quiet_polls = 0

    async def nothing_pending() -> bool:
        nonlocal quiet_polls
        seen.clear()
        for stream in STREAM_NAMES:
            try:
                consumers = await js.consumers_info(stream)
            except nats.errors.Error:  # a cluster member just back may not answer yet
                seen[f"({stream}: no answer)"] = (-1, -1)
                quiet_polls = 0
                return False
            for info in consumers:
                named = info.name in durables if durables is not None else _pulled(info)
                if info.config.durable_name is not None and named:
                    seen[info.name] = (info.num_pending or 0, info.num_ack_pending or 0)
        quiet_polls = quiet_polls + 1 if all(c == (0, 0) for c in seen.values()) else 0
        return quiet_polls == 2

    try:
        await eventually(nothing_pending, within=within, interval=interval)
    except AssertionError:
        pass  # the backlog says what is stuck
    finally:
        await nc.close()
    return dict(seen)


def _pulled(info: ConsumerInfo) -> bool:
    """Whether a client pulls from the durable now (a pull request waiting: each running
    consumer keeps some outstanding) or ever had a message from it."""
    return bool(info.num_waiting) or bool(info.delivered and info.delivered.consumer_seq)


def stuck(backlog: Backlog) -> Backlog:
    """The durables of ``backlog`` with a message pending or unacknowledged."""
    return {name: counts for name, counts in backlog.items() if counts != (0, 0)}


async def wait_until_consumed(
    nats_url: str,
    running: Iterable[ServiceTopology[Any]],
    within: float = 60.0,
    interval: float = 0.5,
) -> Backlog:
    """Wait until every durable of the ``running`` services has acked all its stream holds
    (what one service acks may be what the next consumes); fail naming the durables still
    busy. The other services' durables are on the bus too (the migration made them), unread."""
    durables = {consumer.durable for topology in running for consumer in topology.consumers}
    backlog = await durable_backlog(nats_url, within, interval, durables)
    if stuck(backlog):
        raise AssertionError(f"not consumed within {within} s: {stuck(backlog)}")
    return backlog


@contextmanager
def login_in_role(database_url: str, login: str, role: str) -> Iterator[str]:
    """The database's URL for a new login that is a member of ``role`` (dropped afterwards)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {login}")
        conn.execute(f"CREATE ROLE {login} LOGIN IN ROLE {role}")
    yield database_url.replace("postgresql://postgres@", f"postgresql://{login}@")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {login}")
        conn.execute(f"DROP ROLE {login}")
