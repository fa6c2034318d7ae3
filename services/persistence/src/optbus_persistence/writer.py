"""The persistence handler: decode a batch, write it (``EventStore.write``), then ack.

A failed write falls in two kinds. The database being away or not ready (the connection lost,
a deadlock, a database shutting down or out of resources, a schema never migrated: anything the
server answered with another SQLSTATE, or the driver's operational and interface errors, or an
OS error) passes, so the batch is nak'd with a delay and comes again, for as long as it lasts:
the consumers deliver without limit, and no outage parks anything. Everything else comes back
on every retry: a refusal of the data itself (SQLSTATE class 22, a data exception, 23, an
integrity constraint violation, or 54, a program limit such as an index row too large) and any
other exception (a bug mapping some message to rows,
say), so the batch is split in halves until the message at fault is alone, and only that message
is parked with the error: the others are stored and acked. Either way a message is acked only
after its commit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
import structlog
from nats.aio.msg import Msg
from prometheus_client import Counter

from optbus.runtime.bus import DeadLetterOffice, delivered_ns
from optbus.runtime.metrics import MESSAGES_HANDLED
from optbus.subjects import STREAM_NAMES
from optbus_persistence.rows import BusMessage, StoredEvent, UnstorableMessage, decode_stored
from optbus_persistence.schema import SchemaMissing
from optbus_persistence.store import EventStore, WriteResult

_log = structlog.get_logger()

_PERMANENT_SQLSTATE_CLASSES = ("22", "23", "54")
"""What the database says of the data itself: a data exception, an integrity constraint
violation, a program limit exceeded (an index row too large: an event id of thousands of
characters, which the events' unique index cannot hold)."""

DUPLICATES = Counter(
    "optbus_persistence_duplicates_total",
    "Messages not stored because their event was stored already (a redelivery, a producer "
    "publishing again, a new JetStream store), by stream",
    ["stream"],
)
for _stream in STREAM_NAMES:  # every stream's series exists, at zero, from the start
    DUPLICATES.labels(_stream)


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


def refuses_the_data(exc: Exception) -> bool:
    """Whether a failed write failed on the data, which a retry cannot fix: SQLSTATE class 22,
    23 or 54, or the driver refusing a value before sending it (a ``DataError`` of its own, or a
    number its column type cannot hold)."""
    if isinstance(exc, psycopg.Error) and exc.sqlstate is not None:
        return exc.sqlstate[:2] in _PERMANENT_SQLSTATE_CLASSES
    return isinstance(exc, psycopg.DataError | OverflowError)


def database_unavailable(exc: Exception) -> bool:
    """Whether a failed write failed on the database's state, which passes: the connection (an
    OS error, the driver's operational or interface error, a pool's timeout), the schema not
    there yet, or any SQLSTATE the server answered with beyond classes 22 and 23 (a deadlock,
    a shutdown, too many connections, a table not migrated). A retry, later, stores it."""
    if refuses_the_data(exc):
        return False
    if isinstance(exc, OSError | SchemaMissing | psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return isinstance(exc, psycopg.Error) and exc.sqlstate is not None


def _refusal(exc: Exception) -> str:
    """The reason a message that cannot be stored is parked with: the SQLSTATE and message the
    database refused it with, or the exception that stopped its write."""
    if isinstance(exc, psycopg.Error) and exc.sqlstate is not None:
        return f"database refused it: SQLSTATE {exc.sqlstate} {exc.diag.message_primary or exc}"
    if refuses_the_data(exc):
        return f"database refused it: {exc!r}"
    return f"storing it failed: {exc!r}"


async def persist_batch(messages: Sequence[Msg], deps: PersistenceDeps) -> WriteResult | None:
    """Store a batch; ack only after the commit; park what cannot be stored; retry the rest
    when the database fails for a while.

    Returns what was written, or None when the database failed and what was not committed will
    come again.
    """
    storable: list[tuple[Msg, StoredEvent]] = []
    unstorable: list[tuple[Msg, str]] = []
    for msg in messages:
        try:
            storable.append((msg, decode_stored(bus_message(msg))))
        except UnstorableMessage as exc:
            unstorable.append((msg, exc.reason))
    written = WriteResult(events=0, option_ticks=0)
    parts = deque([storable] if storable else [])
    while parts:
        part = parts.popleft()
        try:
            result = await asyncio.to_thread(deps.store.write, [stored for _, stored in part])
        except Exception as exc:  # what is not an outage is the message's fault: bisect
            if database_unavailable(exc):
                uncommitted = [msg for waiting in (part, *parts) for msg, _ in waiting]
                await _retry_later(uncommitted, deps, exc)
                await _park(unstorable, deps)
                return None
            if len(part) == 1:
                if not refuses_the_data(exc):
                    # not the database's word on the data: a bug of ours, worth its traceback
                    _log.error("storing a message failed; parking it", consumer=deps.consumer,
                               exc_info=exc)  # fmt: skip
                unstorable.append((part[0][0], _refusal(exc)))
            else:
                parts.extendleft([part[len(part) // 2 :], part[: len(part) // 2]])
            continue
        await asyncio.gather(*(msg.ack() for msg, _ in part))
        MESSAGES_HANDLED.labels(deps.service, deps.consumer, "ok").inc(len(part))
        written += result
    await _park(unstorable, deps)
    _count_duplicates(written, deps)
    return written


def _count_duplicates(written: WriteResult, deps: PersistenceDeps) -> None:
    """Count and log what was stored already: a few after a redelivery, many after a new
    JetStream store or a producer restarted."""
    for stream, duplicates in written.duplicates.items():
        DUPLICATES.labels(stream).inc(duplicates)
    if written.duplicates:
        _log.info("skipped events stored already", consumer=deps.consumer,
                  duplicates=dict(written.duplicates))  # fmt: skip


async def _retry_later(messages: Sequence[Msg], deps: PersistenceDeps, exc: Exception) -> None:
    """Nak what was not committed, with a delay, and wait as long before the next batch."""
    _log.warning("database write failed; batch will be redelivered", error=str(exc))
    await asyncio.gather(*(msg.nak(delay=deps.retry_delay_seconds) for msg in messages))
    MESSAGES_HANDLED.labels(deps.service, deps.consumer, "retried").inc(len(messages))
    await asyncio.sleep(deps.retry_delay_seconds)


async def _park(unstorable: Sequence[tuple[Msg, str]], deps: PersistenceDeps) -> None:
    """Park what no retry can store, whatever the database's state: parking needs only NATS."""
    for msg, reason in unstorable:
        await deps.dead_letters.park(msg, reason)
        MESSAGES_HANDLED.labels(deps.service, deps.consumer, "dead_lettered").inc()
