"""Ingest: option rows per second the persistence service stores from a pre-filled stream.

Issue 17's first figure, goal at least 300,000 rows/s. A nats-server of the benchmark's own
(file store under a temporary directory) is filled with ``greeks.chain`` events, the chains
the persistence service turns into ``option_ticks`` rows: at least 5 million rows at scale 1
(a tenth at 0.1). Then the real service runs as operators run it (``optbus run persistence``,
storing the ANALYTICS stream) against a fresh database, its durable consumer reading the
backlog from the start. The rate is the rows of the messages it acknowledged between the first
and the last acknowledgement seen (start-up left out), read from the consumer's ack floor;
at the end the database must hold every row and every event published, none twice.

The reference, measured in the same run: psycopg's bare ``COPY ... FORMAT BINARY`` of the same
rows into the same ``option_ticks`` table of a second fresh database, with the rows built
before the clock starts (chunk by chunk, to bound memory); once before the service runs and
once after, the median of the two taken, since the load of a shared machine drifts. Beside the
rate, the peak resident memory of the persistence process (``VmHWM``), and that of the same
service started with nothing to store.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from itertools import accumulate, islice
from pathlib import Path

import msgspec
import nats
import psycopg
from _records import Record, record
from psycopg import sql

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import ChainGreeks, OptionChainSnapshot
from optbus.market import load_market_facts
from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus.subjects import STREAMS, greeks_chain
from optbus.timestamps import datetime_from_ns
from optbus_backtest.sources import first, simulator
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.servers import LocalNats, create_database
from optbus_cli.service_processes import ServiceProcesses
from optbus_greeks.domain import GreeksConfig, enrich_chain
from optbus_persistence.rows import OPTION_TICK_COLUMNS, OPTION_TICK_TYPES, option_tick_rows
from optbus_persistence.schema import migrate
from optbus_persistence.topology import durable_name

GOAL_ROWS_PER_SECOND = 300_000.0
FULL_ROWS = 5_000_000
DAY = date(2026, 12, 2)
SIMULATED_STEPS = 100
"""Distinct simulated seconds (about 4 chains each); the stream repeats them later in the day,
each copy under new event ids and times, because simulating and pricing a second costs ~0.1 s
(the ingest, not the simulator, is measured here)."""
STREAM = "ANALYTICS"
_PUBLISH_WINDOW = 256
_REFERENCE_CHUNK_ROWS = 500_000
_POLL_SECONDS = 0.2
_DRAIN_TIMEOUT_SECONDS = 1_800.0


def _priced_chains() -> list[ChainGreeks]:
    """The simulated day's first chains with their Greeks, as the greeks service makes them."""
    facts = load_market_facts()
    config = GreeksConfig(rate_at=lambda _ts: 0.065, expiry_close_ns=facts.expiry_close_ns)
    steps = first(simulator(seed=17, start_date=DAY, days=1, facts=facts).ticks(),
                  SIMULATED_STEPS)  # fmt: skip
    clock = ReplayClock()
    return [enrich_chain(event, config, clock) for step in steps for event in step
            if isinstance(event, OptionChainSnapshot)]  # fmt: skip


def _chains(base: list[ChainGreeks], rows_wanted: int) -> Iterator[ChainGreeks]:
    """Copies of ``base``, each round ``SIMULATED_STEPS`` seconds later than the one before and
    under new event ids, until they hold ``rows_wanted`` option rows."""
    rows = 0
    for copy in range(rows_wanted):  # never exhausted: every chain holds at least one row
        shift = copy * SIMULATED_STEPS * 1_000_000_000
        for chain in base:
            snap = chain.snapshot
            yield msgspec.structs.replace(
                chain,
                event_id=f"bench-ingest-{copy}-{chain.event_id}",
                ts_event=chain.ts_event + shift,
                snapshot=msgspec.structs.replace(
                    snap, event_id=f"bench-ingest-{copy}-{snap.event_id}",
                    ts_event=snap.ts_event + shift,
                ),
            )  # fmt: skip
            rows += 2 * len(snap.strikes)
            if rows >= rows_wanted:
                return


async def _fill_stream(nats_url: str, chains: list[ChainGreeks]) -> None:
    """Publish the chains on the bus in order, a window of acknowledgements in flight."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        for start in range(0, len(chains), _PUBLISH_WINDOW):
            await asyncio.gather(*(
                js.publish(greeks_chain(chain.snapshot.underlying, chain.snapshot.expiry),
                           encode(chain), headers={"Nats-Msg-Id": chain.event_id}, timeout=60)
                for chain in chains[start : start + _PUBLISH_WINDOW]
            ))  # fmt: skip
    finally:
        await nc.close()


async def _acked_over_time(nats_url: str, messages: int) -> list[tuple[float, int]]:
    """(monotonic time, ack floor) each time the persistence consumer's floor moved, until
    every message is acknowledged."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    durable = durable_name(next(spec for spec in STREAMS if spec.name == STREAM), "greeks.>")
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + _DRAIN_TIMEOUT_SECONDS
    try:
        while not samples or samples[-1][1] < messages:
            if time.monotonic() > deadline:
                raise TimeoutError(f"persistence acked {samples[-1:]} of {messages} in time")
            try:
                floor = (await js.consumer_info(STREAM, durable)).ack_floor.stream_seq or 0
            except nats.js.errors.NotFoundError:  # the service has not declared it yet
                floor = 0
            if floor and (not samples or floor != samples[-1][1]):
                samples.append((time.monotonic(), floor))
            await asyncio.sleep(_POLL_SECONDS)
    finally:
        await nc.close()
    return samples


def _peak_rss_bytes(pid: int) -> int:
    """The most memory the process ever held resident (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


async def _idle_peak_rss(services: ServiceProcesses, nats_url: str) -> int:
    """Peak memory of a persistence process that started and has nothing to store: it stores
    only the (empty) MODELS stream, and is stopped once its consumer is declared."""
    services.start("persistence", {"OPTBUS_PERSISTENCE_STREAMS": '["MODELS"]'})
    nc = await nats.connect(nats_url)
    durable = durable_name(next(spec for spec in STREAMS if spec.name == "MODELS"), "model.>")
    try:
        while True:
            try:
                await nc.jetstream().consumer_info("MODELS", durable)
                break
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(_POLL_SECONDS)
        await asyncio.sleep(1.0)
        return _peak_rss_bytes(services.processes["persistence"].pid)
    finally:
        await nc.close()
        services.stop("persistence")


def _counted(database_url: str) -> tuple[int, int, int]:
    """Option rows, events, and option rows stored more than once, in the database."""
    with psycopg.connect(database_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM option_ticks), (SELECT count(*) FROM events), "
            "(SELECT count(*) - count(DISTINCT (underlying, expiry, strike, option_type, time)) "
            "FROM option_ticks)"
        ).fetchone()
    assert counts is not None
    ticks, events, doubled = counts
    return int(ticks), int(events), int(doubled)


def _bare_copy_seconds(database_url: str, chains: list[ChainGreeks]) -> float:
    """Seconds psycopg's binary COPY takes for the chains' rows, rows built off the clock."""
    copy = sql.SQL("COPY option_ticks ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.SQL(", ").join(map(sql.Identifier, OPTION_TICK_COLUMNS))
    )
    elapsed = 0.0
    chain_iter = iter(chains)
    # Bare: psycopg's own connection, without the services' statement timeout.
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE option_ticks")
        for day in sorted({datetime_from_ns(chain.snapshot.ts_event).date() for chain in chains}):
            conn.execute("SELECT optbus_ensure_day_partition('option_ticks', %s)", (day,))
        conn.commit()
        while chunk := [row for chain in islice(chain_iter, _REFERENCE_CHUNK_ROWS // 100)
                        for row in option_tick_rows(chain)]:  # fmt: skip
            started = time.perf_counter()
            with conn.cursor().copy(copy) as staged:
                staged.set_types(list(OPTION_TICK_TYPES))
                for row in chunk:
                    staged.write_row(row)
            conn.commit()
            elapsed += time.perf_counter() - started
    return elapsed


def _scratch_database(name: str) -> str:
    base = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL).rpartition("/")[0]
    create_database(f"{base}/postgres", name, fresh=True)
    migrate(f"{base}/{name}")
    return f"{base}/{name}"


def _drop_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))  # fmt: skip


def run(scale: float) -> list[Record]:
    """Fill a stream, store it with the persistence service, and COPY the same rows bare."""
    rows_wanted = max(50_000, int(FULL_ROWS * scale))
    chains = list(_chains(_priced_chains(), rows_wanted))
    rows_by_message = [2 * len(chain.snapshot.strikes) for chain in chains]
    rows_upto = [0, *accumulate(rows_by_message)]  # rows of stream sequences 1..n
    total_rows = rows_upto[-1]
    print(f"  {len(chains):,} chains, {total_rows:,} option rows", flush=True)

    reference_url = _scratch_database("optbus_bench_ingest_reference")
    service_url = _scratch_database("optbus_bench_ingest")
    with tempfile.TemporaryDirectory(prefix="optbus-bench-ingest-") as scratch:
        server = LocalNats(Path(scratch) / "nats").start()
        try:
            asyncio.run(migrate_bus(server.url))
            started = time.perf_counter()
            asyncio.run(_fill_stream(server.url, chains))
            print(f"  stream filled in {time.perf_counter() - started:.1f} s", flush=True)
            copy_seconds = [_bare_copy_seconds(reference_url, chains)]

            env = os.environ | {
                "NATS_URL": server.url,
                "DATABASE_URL": service_url,
                "OPTBUS_PERSISTENCE_STREAMS": f'["{STREAM}"]',
                "OPTBUS_LOG_LEVEL": "WARNING",
            }
            services = ServiceProcesses(env, Path(scratch) / "logs")
            idle_rss = asyncio.run(_idle_peak_rss(services, server.url))
            services.start("persistence")
            try:
                samples = asyncio.run(_acked_over_time(server.url, len(chains)))
                peak_rss = _peak_rss_bytes(services.processes["persistence"].pid)
            finally:
                services.stop_all()
            copy_seconds.append(_bare_copy_seconds(reference_url, chains))
        finally:
            server.stop()
    copy_rate = total_rows / statistics.median(copy_seconds)
    (first_at, first_floor), (last_at, last_floor) = samples[0], samples[-1]
    rate = (rows_upto[last_floor] - rows_upto[first_floor]) / (last_at - first_at)
    ticks, events, doubled = _counted(service_url)
    _drop_database(service_url)
    _drop_database(reference_url)
    if (ticks, events, doubled) != (total_rows, len(chains), 0):
        raise AssertionError(
            f"stored {ticks:,} option rows ({doubled:,} twice) and {events:,} events; "
            f"published {total_rows:,} rows in {len(chains):,} events"
        )
    return [
        record("ingest_option_rows_per_second", rate, "rows/s",
               "bare COPY BINARY of the same rows", copy_rate),
        record("ingest_vs_goal", rate, "rows/s", "goal", GOAL_ROWS_PER_SECOND),
        record("ingest_persistence_peak_rss_mb", peak_rss / 2**20, "MB",
               "peak RSS of the same service started with nothing to store", idle_rss / 2**20),
    ]  # fmt: skip
