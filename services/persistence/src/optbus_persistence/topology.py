"""The persistence service on the bus: one durable consumer per subject of every stream, each
writing what it receives to the database."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from optbus.runtime.topology import (
    UNLIMITED,
    BatchConsumer,
    BatchHandler,
    ConsumerPorts,
    Delivery,
    ServiceTopology,
)
from optbus.subjects import STREAMS, StreamSpec
from optbus_persistence.store import EventStore
from optbus_persistence.writer import PersistenceDeps, persist_batch

SERVICE = "persistence"


class StoreDeps:
    """Where each consumer's store comes from (a connection of its own, opened at its first
    write), how long it waits after a failed write, and every store handed out: the health
    check pings one, and the service closes them all at shutdown."""

    def __init__(self, new_store: Callable[[], EventStore], retry_delay_seconds: float) -> None:
        self._new_store = new_store
        self.retry_delay_seconds = retry_delay_seconds
        self.stores: list[EventStore] = []

    def store(self) -> EventStore:
        """A new store for one consumer, remembered for the health check and the shutdown."""
        store = self._new_store()
        self.stores.append(store)
        return store


def durable_name(spec: StreamSpec, subject: str) -> str:
    """The durable consumer name for one subject filter of a stream."""
    return f"persistence-{spec.name.lower()}-{subject.split('.')[0]}"


def _writer(deps: StoreDeps, ports: ConsumerPorts, durable: str) -> BatchHandler:
    writer = PersistenceDeps(
        service=SERVICE, consumer=durable, store=deps.store(), dead_letters=ports.dead_letters,
        retry_delay_seconds=deps.retry_delay_seconds,
    )  # fmt: skip
    return partial(persist_batch, deps=writer)


TOPOLOGY: ServiceTopology[StoreDeps] = ServiceTopology(
    service=SERVICE,
    consumers=tuple(
        BatchConsumer(
            spec.name,
            subject,
            durable_name(spec, subject),
            partial(_writer, durable=durable_name(spec, subject)),
        )
        for spec in STREAMS
        for subject in spec.subjects
    ),
    publishes=(),
    clock="wall",
    # Redelivered for as long as it takes: the writer naks a batch every retry delay while the
    # database is down, so any finite max_deliver would drop the whole backlog of an outage of
    # a few minutes to the DLQ. What can never be stored the writer parks itself. A minute to
    # store a batch; four default batches (200) in flight, across the replicas.
    delivery=Delivery(ack_wait_seconds=60.0, max_ack_pending=4 * 200, max_deliver=UNLIMITED),
)
