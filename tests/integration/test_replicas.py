"""Two greeks and two persistence replicas, each an ``optbus run`` process of its own, sharing
each durable pull consumer of one bus: every snapshot is priced exactly once, every message is
stored exactly once, and both replicas of each service take part of the work."""

from __future__ import annotations

import asyncio
import os
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families

from optbus.codec import Decoder
from optbus.events import ChainGreeks, OptionChainSnapshot
from optbus_cli.service_processes import ServiceProcesses, replica_names, start_replicas
from optbus_greeks.topology import TOPOLOGY as GREEKS
from optbus_persistence.topology import TOPOLOGY as PERSISTENCE

from ..conftest import migrated_database, migrated_nats
from .conftest import (
    expected_rows,
    publish_events,
    query_one,
    simulated_steps,
    ticks_on,
    wait_until_consumed,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

SESSION = date(2026, 3, 2)
STEPS = 40
"""Simulated market steps (each: every chain and the VIX)."""
REPLICAS = {"greeks": 2, "persistence": 2}
SMALL_BATCHES = {
    "greeks": {"OPTBUS_GREEKS_BATCH_SIZE": "2"},
    "persistence": {
        "OPTBUS_PERSISTENCE_BATCH_SIZE": "4",
        "OPTBUS_PERSISTENCE_RETRY_DELAY_SECONDS": "0.5",
    },
}
"""Small batches, so that a replica holds few messages at a time and the other gets the rest;
with a whole session in one replica's first pull, the work need not be shared at all."""
START_SECONDS = 600.0
"""greeks compiles its pricing kernels before it reports healthy: minutes on a cold cache."""


@dataclass(frozen=True)
class ReplicatedRun:
    """What two replicas of greeks and of persistence did with one simulated session."""

    snapshot_ids: list[str]
    published: int
    priced: Counter[str]
    """greeks.chain events on the bus, by the id of the snapshot they price."""
    handled: dict[str, float]
    """Messages each replica handled (acked), by its name."""
    duplicates: dict[str, float]
    """Messages each persistence replica found stored already, by its name."""
    stored_events: tuple[int, int]
    """Rows of ``events``, and their distinct event ids."""
    stored_ticks: int
    expected_ticks: int


def _metric_total(port: int, name: str, **labels: str) -> float:
    """The sum of a replica's samples of metric ``name`` that carry ``labels``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def _priced_chains(nats_url: str) -> Counter[str]:
    """Every greeks.chain message of the ANALYTICS stream, counted by its source snapshot."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        last = (await js.stream_info("ANALYTICS")).state.last_seq
        decoder = Decoder(ChainGreeks)
        priced: Counter[str] = Counter()
        for seq in range(1, last + 1):
            stored = await js.get_msg("ANALYTICS", seq)
            priced[decoder.decode(stored.data or b"").source_event_id] += 1
        return priced
    finally:
        await nc.close()


@pytest.fixture(scope="module")
def replicated_run(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReplicatedRun]:
    """A simulated session published to a bus of its own, handled by two replicas of greeks
    and two of persistence until every consumer has acked everything."""
    work = tmp_path_factory.mktemp("replicas")
    name = f"optbus_replicas_{os.getpid()}"
    with migrated_nats(work / "nats") as server, migrated_database(postgres_admin_url, name) as db:
        processes = ServiceProcesses(
            os.environ | {"NATS_URL": server.url, "DATABASE_URL": db}, work / "logs"
        )
        try:
            ports = start_replicas(processes, REPLICAS, START_SECONDS, SMALL_BATCHES)
            steps = simulated_steps(SESSION, STEPS, run_id="replicas")
            events = [event for step in steps for event in step]
            asyncio.run(publish_events(server.url, events))
            asyncio.run(wait_until_consumed(server.url, (GREEKS, PERSISTENCE), within=300.0))
            handled = {
                replica: _metric_total(port, "optbus_messages_handled_total", outcome="ok")
                for replica, port in ports.items()
            }
            duplicates = {
                replica: _metric_total(ports[replica], "optbus_persistence_duplicates_total")
                for replica in replica_names("persistence", REPLICAS["persistence"])
            }
            priced = asyncio.run(_priced_chains(server.url))
        finally:
            processes.stop_all()
        rows, distinct = query_one(db, "SELECT count(*), count(DISTINCT event_id) FROM events")
        yield ReplicatedRun(
            snapshot_ids=[e.event_id for e in events if isinstance(e, OptionChainSnapshot)],
            published=len(events),
            priced=priced,
            handled=handled,
            duplicates=duplicates,
            stored_events=(int(rows), int(distinct)),  # type: ignore[call-overload]
            stored_ticks=ticks_on(db, SESSION),
            expected_ticks=expected_rows(steps),
        )


def _greeks(run: ReplicatedRun) -> dict[str, float]:
    return {name: run.handled[name] for name in replica_names("greeks", REPLICAS["greeks"])}


def _persistence(run: ReplicatedRun) -> dict[str, float]:
    replicas = replica_names("persistence", REPLICAS["persistence"])
    return {name: run.handled[name] for name in replicas}


def test_every_snapshot_is_priced_exactly_once(replicated_run: ReplicatedRun) -> None:
    assert replicated_run.priced == Counter(replicated_run.snapshot_ids)


def test_the_greeks_replicas_together_handle_each_snapshot_once(
    replicated_run: ReplicatedRun,
) -> None:
    assert sum(_greeks(replicated_run).values()) == len(replicated_run.snapshot_ids)


def test_both_greeks_replicas_price_some_of_the_snapshots(replicated_run: ReplicatedRun) -> None:
    assert all(handled > 0 for handled in _greeks(replicated_run).values()), replicated_run.handled


def test_every_event_is_stored_once(replicated_run: ReplicatedRun) -> None:
    priced = len(replicated_run.snapshot_ids)
    everything = replicated_run.published + priced

    assert replicated_run.stored_events == (everything, everything)


def test_every_option_of_every_priced_chain_is_stored_once(replicated_run: ReplicatedRun) -> None:
    assert replicated_run.stored_ticks == replicated_run.expected_ticks


def test_the_persistence_replicas_together_store_each_message_once(
    replicated_run: ReplicatedRun,
) -> None:
    everything = replicated_run.published + len(replicated_run.snapshot_ids)

    assert sum(_persistence(replicated_run).values()) == everything
    assert sum(replicated_run.duplicates.values()) == 0


def test_both_persistence_replicas_store_some_of_the_messages(
    replicated_run: ReplicatedRun,
) -> None:
    stored = _persistence(replicated_run)

    assert all(handled > 0 for handled in stored.values()), replicated_run.handled
