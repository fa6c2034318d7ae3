"""Read-only views of the bus and the database, shared by ``optbus status`` and the demo."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from optbus import database
from optbus.runtime.nats_security import connect as connect_nats
from optbus.subjects import MD_CHAINS, STREAM_NAMES


@dataclass(frozen=True)
class StreamView:
    """One stream's size."""

    name: str
    messages: int
    bytes: int
    last_seq: int


@dataclass(frozen=True)
class ConsumerView:
    """One durable consumer's progress: what waits to be delivered and what waits for an ack."""

    stream: str
    name: str
    pending: int
    ack_pending: int
    redelivered: int

    @property
    def caught_up(self) -> bool:
        return self.pending == 0 and self.ack_pending == 0


@dataclass(frozen=True)
class BusView:
    """Streams and consumers at one moment."""

    streams: list[StreamView]
    consumers: list[ConsumerView]
    chain_snapshots: int

    def last_seq(self, stream: str) -> int:
        """Last sequence of ``stream`` (0 when it does not exist yet)."""
        return next((s.last_seq for s in self.streams if s.name == stream), 0)


async def _silent(_: Exception) -> None:
    return None


async def nats_answers(url: str, connect_timeout: float = 2.0) -> bool:
    """True when a NATS server with JetStream answers at ``url``."""
    address = urlsplit(url)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(address.hostname, address.port or 4222), connect_timeout
        )
    except (TimeoutError, OSError):
        return False
    writer.close()
    try:
        nc = await connect_nats(url, connect_timeout=connect_timeout, max_reconnect_attempts=0,
                                allow_reconnect=False, error_cb=_silent)  # fmt: skip
    except Exception:
        return False
    try:
        await nc.jetstream().account_info()
    except Exception:
        return False
    finally:
        await nc.close()
    return True


async def _count_subjects(js: JetStreamContext, stream: str, subjects: str) -> int:
    try:
        info = await js.stream_info(stream, subjects_filter=subjects)
    except NotFoundError:
        return 0
    return sum((info.state.subjects or {}).values())


async def view_bus(js: JetStreamContext) -> BusView:
    """Every optbus stream and its consumers, over a connection the caller holds."""
    streams, consumers = [], []
    for name in STREAM_NAMES:
        try:
            info = await js.stream_info(name)
        except NotFoundError:
            continue
        streams.append(StreamView(name, info.state.messages, info.state.bytes,
                                  info.state.last_seq))  # fmt: skip
        for consumer in await js.consumers_info(name):
            consumers.append(
                ConsumerView(name, consumer.name, consumer.num_pending or 0,
                             consumer.num_ack_pending or 0, consumer.num_redelivered or 0)
            )  # fmt: skip
    return BusView(streams, consumers, await _count_subjects(js, "MD", MD_CHAINS))


async def read_bus(url: str) -> BusView:
    """Every optbus stream and its consumers, on a connection of its own."""
    nc = await connect_nats(url, connect_timeout=3, max_reconnect_attempts=1)
    try:
        return await view_bus(nc.jetstream())
    finally:
        await nc.close()


def table_counts(database_url: str) -> dict[str, int]:
    """Row counts of the main tables; empty when the schema does not exist."""
    with database.connect(database_url) as conn:
        if not conn.execute("SELECT to_regclass('events') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
            return {}
        counts = {}
        for table in ("events", "option_ticks", "signals", "orders", "fills", "trades"):
            counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        return counts
