"""The replay's isolated bus, and the service processes that run on it on market time."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import msgspec

from optbus.control import RELEASED
from optbus.runtime.consumer import PullConsumerSpec
from optbus.runtime.control_state import write_kill_switch
from optbus.runtime.migration import declared_consumers, migrate_bus
from optbus.runtime.nats_security import connect as connect_nats
from optbus_backtest.config import BACKTEST_ALGO_ID
from optbus_backtest.wiring import PIPELINE
from optbus_cli.inspect_bus import view_bus
from optbus_cli.replay.options import RESULT_STREAMS, ReplayOptions, replay_config
from optbus_cli.servers import LocalNats
from optbus_persistence.topology import TOPOLOGY as PERSISTENCE

STORING = frozenset(consumer.durable for consumer in PERSISTENCE.consumers)
"""The persistence service's consumers: they store the run rather than take part in it."""


@contextlib.contextmanager
def isolated_bus(options: ReplayOptions) -> Iterator[str]:
    """The replay's bus: the one named, or an embedded nats-server for the run's lifetime."""
    if options.target_nats_url is not None:
        yield options.target_nats_url
        return
    with tempfile.TemporaryDirectory(prefix=f"optbus-replay-{options.run_id}-") as directory:
        server = LocalNats(Path(directory)).start()
        try:
            yield server.url
        finally:
            server.stop()


def stored_streams(options: ReplayOptions) -> list[str]:
    """The streams the replay's persistence service stores."""
    return [*RESULT_STREAMS, *(["ANALYTICS"] if options.persist_chains else [])]


def replay_consumers(options: ReplayOptions) -> tuple[PullConsumerSpec, ...]:
    """The durables the replay's services run: every pipeline service's, and persistence's
    on the streams it stores. No other: on the replay's bus a stream keeps a message until
    every durable on it acked it (interest retention), so a durable nobody runs would hold
    every market message in memory, and ``wait_until_stored`` would wait for it forever."""
    stored = set(stored_streams(options))
    storing = (s for s in declared_consumers((PERSISTENCE,)) if s.stream in stored)
    return (*declared_consumers(PIPELINE), *storing)


async def prepare_bus(nats_url: str, consumers: Sequence[PullConsumerSpec]) -> None:
    """The bus migrated with its streams in memory and the durables of the services that will
    run on it (``replay_consumers``: no other), and the kill switch released explicitly: the
    bus is the replay's own, and without a stored state every service would start halted (fail
    closed)."""
    nc = await connect_nats(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        await migrate_bus(js, consumers, ephemeral=True)
        await write_kill_switch(js, RELEASED)
    finally:
        await nc.close()


def service_env(options: ReplayOptions, nats_url: str, database_url: str) -> dict[str, str]:
    """The services' environment: the replay bus, market time, and the run id to store under."""
    streams = stored_streams(options)
    strategies = replay_config(options).strategies_file
    return os.environ | {
        "OPTBUS_STRATEGY_STRATEGIES_FILE": str(strategies),
        "NATS_URL": nats_url,
        "DATABASE_URL": database_url,
        "OPTBUS_CLOCK": "market",
        "OPTBUS_PERSISTENCE_RUN_ID": options.run_id,
        "OPTBUS_PERSISTENCE_STREAMS": msgspec.json.encode(streams).decode(),
        "OPTBUS_EXECUTION_ALGO_ID": BACKTEST_ALGO_ID,
    }


async def wait_until_stored(nats_url: str, patience_seconds: float) -> None:
    """Wait until the persistence service has acked everything on the replay bus, on every
    stream it stores (the chains too with ``persist_chains``)."""
    nc = await connect_nats(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        deadline = time.monotonic() + patience_seconds
        while time.monotonic() < deadline:
            consumers = (await view_bus(js)).consumers
            stored = [c for c in consumers if c.name in STORING]
            if stored and all(c.caught_up for c in stored):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"persistence did not store the run within {patience_seconds:.0f} s")
    finally:
        await nc.close()
