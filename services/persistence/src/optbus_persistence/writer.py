"""The persistence handler: decode a batch, write it in one transaction, then ack."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
import structlog
from nats.aio.msg import Msg

from optbus.codec import UndecodableMessage
from optbus.runtime.bus import DeadLetterOffice, delivered_ns
from optbus.runtime.metrics import MESSAGES_HANDLED
from optbus_persistence.rows import BusMessage, StoredEvent, decode_stored
from optbus_persistence.schema import SchemaMissing
from optbus_persistence.store import EventStore, WriteResult

_log = structlog.get_logger()


@dataclass(frozen=True)
class PersistenceDeps:
    """What the persistence handler needs, wired by the composition root."""

    service: str
    consumer: str
    store: EventStore
    dead_letters: DeadLetterOffice
    retry_delay_seconds: float


def bus_message(msg: Msg) -> BusMessage:
    """The storage view of a JetStream message."""
    meta = msg.metadata
    return BusMessage(
        stream=meta.stream,
        seq=meta.sequence.stream,
        subject=msg.subject,
        data=msg.data,
        stored_ns=delivered_ns(msg),
        msg_id=(msg.headers or {}).get("Nats-Msg-Id"),
    )


async def persist_batch(messages: Sequence[Msg], deps: PersistenceDeps) -> WriteResult | None:
    """Store a batch; ack only after the commit; park what does not decode; retry on DB errors.

    Returns what was written, or None when the database failed and the batch will come again.
    """
    decoded: list[tuple[Msg, StoredEvent]] = []
    undecodable: list[tuple[Msg, str]] = []
    for msg in messages:
        try:
            decoded.append((msg, decode_stored(bus_message(msg))))
        except UndecodableMessage as exc:
            undecodable.append((msg, exc.reason))
    try:
        result = await asyncio.to_thread(deps.store.write, [stored for _, stored in decoded])
    except (psycopg.Error, SchemaMissing) as exc:
        _log.warning("database write failed; batch will be redelivered", error=str(exc))
        await asyncio.gather(*(msg.nak(delay=deps.retry_delay_seconds) for msg, _ in decoded))
        MESSAGES_HANDLED.labels(deps.service, deps.consumer, "retried").inc(len(decoded))
        await asyncio.sleep(deps.retry_delay_seconds)
        return None
    await asyncio.gather(*(msg.ack() for msg, _ in decoded))
    MESSAGES_HANDLED.labels(deps.service, deps.consumer, "ok").inc(len(decoded))
    for msg, reason in undecodable:
        await deps.dead_letters.park(msg, reason)
        MESSAGES_HANDLED.labels(deps.service, deps.consumer, "dead_lettered").inc()
    return result
