"""The persistence service on the bus: one durable consumer per subject of every stream, each
writing what it receives to the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from optbus.runtime.topology import BatchConsumer, BatchHandler, ConsumerPorts, ServiceTopology
from optbus.subjects import STREAMS, StreamSpec
from optbus_persistence.store import EventStore
from optbus_persistence.writer import PersistenceDeps, persist_batch

SERVICE = "persistence"


@dataclass(frozen=True)
class StoreDeps:
    """How each consumer gets a database connection of its own, and how long it waits after a
    failed write; the stores opened, for the health check and to close them at shutdown."""

    open_store: Callable[[], EventStore]
    retry_delay_seconds: float
    stores: list[EventStore] = field(default_factory=list)


def durable_name(spec: StreamSpec, subject: str) -> str:
    """The durable consumer name for one subject filter of a stream."""
    return f"persistence-{spec.name.lower()}-{subject.split('.')[0]}"


def _writer(deps: StoreDeps, ports: ConsumerPorts, durable: str) -> BatchHandler:
    store = deps.open_store()
    deps.stores.append(store)
    writer = PersistenceDeps(
        service=SERVICE, consumer=durable, store=store, dead_letters=ports.dead_letters,
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
)
