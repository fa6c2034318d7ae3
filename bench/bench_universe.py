"""The whole NSE F&O segment at live pace through greeks and persistence, 1, 2 and 4 replicas.

The simulator follows every index and stock with a contract (``simulator.universe``): about
60,000 options in one snapshot per underlying and expiry each market second. The seconds are
simulated and held in memory first, then published at the live pace, one market second of
snapshots each wall second (or as fast as the bus takes them, the lateness measured), onto an
embedded nats-server, to N ``optbus run greeks`` and N ``optbus run persistence`` processes that
share each durable pull consumer (a work queue). Persistence stores the priced chains
(``option_ticks``); the raw snapshots (the MD stream) are left out.

Per replica count, from the first publish until both consumers have caught up (or as long
again as the publishing took): options priced per second (chains on the ANALYTICS stream times
the mean options per chain) and rows stored per second (``option_ticks``), against the live rate
needed; when the services keep up they show the offered rate, when they fall behind, what they
can do. Beside them each consumer's lag (messages pending or unacked) when the publishing ends
and its maximum, the latest a market second's publishing finished, the resident memory of each
replica, and the 2- and 4-replica throughput against the 1-replica one measured in the same
run. Persistence stores what the live system stores of a priced chain: its event row and one
``option_ticks`` row per option.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import msgspec
import nats.errors
from _records import Record, record

from optbus import database
from optbus.clock import ReplayClock
from optbus.events import OptionChainSnapshot
from optbus.market import load_market_facts, load_reference_prices
from optbus.routing import subject_of
from optbus.runtime.bus import EventPublisher
from optbus.runtime.migration import declared_consumers
from optbus.runtime.nats_security import connect as connect_nats
from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_cli.replay.bus import prepare_bus
from optbus_cli.servers import LocalNats, create_database
from optbus_cli.service_processes import ServiceProcesses, replica_names, start_replicas
from optbus_greeks.topology import TOPOLOGY as GREEKS
from optbus_market_data.simulator import ChainSimulator, universe_config
from optbus_persistence.schema import migrate
from optbus_persistence.topology import TOPOLOGY as PERSISTENCE

REPLICAS = (1, 2, 4)
LIVE_OPTIONS_PER_SECOND = 60_000.0
DAY = date(2026, 6, 1)
GREEKS_DURABLE = "greeks"
STORE_DURABLE = "persistence-analytics-greeks"
_SAMPLE_SECONDS = 0.5
_READY_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class _Second:
    """One market second of the segment: every chain's snapshot with its subject."""

    chains: list[tuple[str, OptionChainSnapshot]]

    @property
    def options(self) -> int:
        return sum(2 * len(chain.strikes) for _, chain in self.chains)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one replica count did, from the first publish until caught up."""

    window_seconds: float
    priced_per_second: float
    stored_per_second: float
    greeks_lag_end: int
    greeks_lag_max: int
    store_lag_end: int
    store_lag_max: int
    latest_publish_seconds: float
    greeks_rss_mb: list[float]
    persistence_rss_mb: list[float]


def _simulate(seconds: int) -> list[_Second]:
    facts = load_market_facts()
    config = universe_config(facts, load_reference_prices().closes, seed=17,
                             run_id="bench-universe", start_date=DAY)  # fmt: skip
    # One block of exactly the seconds needed: the simulator prices a whole block at once.
    quick = msgspec.structs.replace(config, block_steps=seconds)
    steps = ChainSimulator(quick, facts, ReplayClock()).ticks()
    return [
        _Second([(subject_of(e), e) for e in next(steps) if isinstance(e, OptionChainSnapshot)])
        for _ in range(seconds)
    ]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass(frozen=True, slots=True)
class _Replicas:
    """The greeks and persistence processes of one run, ``count`` of each."""

    processes: ServiceProcesses
    count: int

    def rss_mb(self, service: str) -> list[float]:
        """The resident memory of each replica of ``service``."""
        running = self.processes.processes
        return [_rss_mb(running[name].pid) for name in replica_names(service, self.count)]


@contextmanager
def _stack(replicas: int, work: Path) -> Iterator[tuple[str, str, _Replicas]]:
    """A fresh bus and database with ``replicas`` greeks and persistence processes on them."""
    base = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL).rpartition("/")[0]
    create_database(f"{base}/postgres", "optbus_bench_universe", fresh=True)
    database_url = f"{base}/optbus_bench_universe"
    migrate(database_url)
    server = LocalNats(work / f"nats-{replicas}").start()
    processes = ServiceProcesses(os.environ | {
        "NATS_URL": server.url,
        "DATABASE_URL": database_url,
        "OPTBUS_CLOCK": "market",
        "OPTBUS_PERSISTENCE_STREAMS": msgspec.json.encode(["ANALYTICS"]).decode(),
    }, work / f"logs-{replicas}")  # fmt: skip
    try:
        # The durables of the services run here only: on the in-memory bus (interest
        # retention) one nobody runs would hold every message.
        consumers = [
            *declared_consumers((GREEKS,)),
            *(c for c in declared_consumers((PERSISTENCE,)) if c.stream == "ANALYTICS"),
        ]
        asyncio.run(prepare_bus(server.url, consumers))
        start_replicas(processes, {"persistence": replicas, "greeks": replicas}, _READY_SECONDS)
        yield server.url, database_url, _Replicas(processes, replicas)
    finally:
        processes.stop_all()
        server.stop()


async def _lag(js: object, stream: str, durable: str) -> int:
    info = await js.consumer_info(stream, durable)  # type: ignore[attr-defined]
    return int(info.num_pending + info.num_ack_pending)


async def _both_lags(js: object) -> tuple[int, int] | None:
    """Greeks' and persistence's lag, or None when the loaded server did not answer in time
    (that sample is skipped, not the run)."""
    try:
        return await _lag(js, "MD", GREEKS_DURABLE), await _lag(js, "ANALYTICS", STORE_DURABLE)
    except nats.errors.TimeoutError:
        return None


async def _publish_paced(nats_url: str, seconds: list[_Second], services: _Replicas) -> dict:
    """Each market second's chains at the start of its wall second, then as long again for the
    backlog to drain; the consumers' lag and the replicas' memory sampled throughout."""
    nc = await connect_nats(nats_url, connect_timeout=5)
    js = nc.jetstream()
    publisher = EventPublisher(lambda: js, "bench-universe")
    lags: list[tuple[int, int]] = []
    rss: dict[str, list[list[float]]] = {"greeks": [], "persistence": []}
    publishing = True

    async def sample() -> None:
        while publishing or not lags or lags[-1] != (0, 0):
            if (lag := await _both_lags(js)) is not None:
                lags.append(lag)
            for service, readings in rss.items():
                readings.append(services.rss_mb(service))
            await asyncio.sleep(_SAMPLE_SECONDS)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    latest = 0.0
    for index, second in enumerate(seconds):
        due = started + index
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await publisher.publish_all(second.chains)
        latest = max(latest, time.monotonic() - due)
    await asyncio.sleep(max(0.0, started + len(seconds) - time.monotonic()))
    at_window_end = await _both_lags(js) or (lags[-1] if lags else (0, 0))
    publishing = False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(sampler), timeout=len(seconds))
    elapsed = time.monotonic() - started
    # The bus keeps a message only until every consumer acked it: count what ever arrived.
    priced_chains = (await js.stream_info("ANALYTICS")).state.last_seq
    sampler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampler
    await nc.close()
    return {
        "elapsed": elapsed,
        "priced_chains": priced_chains,
        "greeks_lag_end": at_window_end[0],
        "store_lag_end": at_window_end[1],
        "greeks_lag_max": max(lag[0] for lag in [*lags, at_window_end]),
        "store_lag_max": max(lag[1] for lag in [*lags, at_window_end]),
        "latest": latest,
        "rss": {service: [max(r) for r in zip(*readings, strict=True)]
                for service, readings in rss.items()},
    }  # fmt: skip


def _stored_rows(database_url: str) -> int:
    with database.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM option_ticks").fetchone()
    return int(row[0]) if row else 0


def _run_replicas(replicas: int, seconds: list[_Second], work: Path) -> _Outcome:
    options_per_chain = sum(s.options for s in seconds) / sum(len(s.chains) for s in seconds)
    with _stack(replicas, work) as (nats_url, database_url, services):
        end = asyncio.run(_publish_paced(nats_url, seconds, services))
        stored = _stored_rows(database_url)
    window = float(end["elapsed"])
    return _Outcome(
        window_seconds=window,
        priced_per_second=end["priced_chains"] * options_per_chain / window,
        stored_per_second=stored / window,
        greeks_lag_end=end["greeks_lag_end"],
        greeks_lag_max=end["greeks_lag_max"],
        store_lag_end=end["store_lag_end"],
        store_lag_max=end["store_lag_max"],
        latest_publish_seconds=end["latest"],
        greeks_rss_mb=end["rss"]["greeks"],
        persistence_rss_mb=end["rss"]["persistence"],
    )


def _records(replicas: int, outcome: _Outcome, one: _Outcome, chains: int) -> list[Record]:
    name = f"universe_{replicas}x"
    live = f"live rate needed ({LIVE_OPTIONS_PER_SECOND:,.0f} options/s)"
    records = [
        record(f"{name}_options_priced_per_s", outcome.priced_per_second, "options/s",
               live, LIVE_OPTIONS_PER_SECOND),
        record(f"{name}_rows_stored_per_s", outcome.stored_per_second, "rows/s",
               live, LIVE_OPTIONS_PER_SECOND),
        record(f"{name}_greeks_lag_at_end", outcome.greeks_lag_end, "chains",
               "one market second of chains", chains),
        record(f"{name}_greeks_lag_max", outcome.greeks_lag_max, "chains",
               "one market second of chains", chains),
        record(f"{name}_persistence_lag_at_end", outcome.store_lag_end, "chains",
               "one market second of chains", chains),
        record(f"{name}_persistence_lag_max", outcome.store_lag_max, "chains",
               "one market second of chains", chains),
        record(f"{name}_publish_latest_s", outcome.latest_publish_seconds, "s",
               "the 1 s a market second may take", 1.0),
        record(f"{name}_greeks_rss_mb_per_replica", statistics.median(outcome.greeks_rss_mb),
               "MB", "1 replica", statistics.median(one.greeks_rss_mb)),
        record(f"{name}_persistence_rss_mb_per_replica",
               statistics.median(outcome.persistence_rss_mb), "MB", "1 replica",
               statistics.median(one.persistence_rss_mb)),
    ]  # fmt: skip
    if replicas > 1:
        records += [
            record(f"{name}_priced_vs_1x", outcome.priced_per_second, "options/s",
                   "1 replica, same run", one.priced_per_second),
            record(f"{name}_stored_vs_1x", outcome.stored_per_second, "rows/s",
                   "1 replica, same run", one.stored_per_second),
        ]  # fmt: skip
    return records


def run(scale: float) -> list[Record]:
    """A minute of the segment at live pace (``scale`` of it, at least 5 s) per replica count."""
    seconds = _simulate(max(5, round(60 * scale)))
    chains = len(seconds[0].chains)
    options = statistics.median(s.options for s in seconds)
    records = [record("universe_options_per_snapshot_second", options, "options",
                      "the segment's ~60,000", LIVE_OPTIONS_PER_SECOND)]  # fmt: skip
    outcomes: dict[int, _Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="optbus-bench-universe-") as directory:
        for replicas in REPLICAS:
            outcomes[replicas] = _run_replicas(replicas, seconds, Path(directory))
            print(f"  {replicas} replica(s): {outcomes[replicas]}", flush=True)
    for replicas, outcome in outcomes.items():
        records += _records(replicas, outcome, outcomes[1], chains)
    return records
