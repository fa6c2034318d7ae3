"""Composition root of the persistence service: a durable batch consumer per stream subject."""

from __future__ import annotations

import asyncio

from faststream.asgi import AsgiFastStream
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus.clock import LiveClock
from optbus.runtime.bus import DeadLetterOffice, EventPublisher
from optbus.runtime.metrics import HANDLER_SECONDS
from optbus.runtime.service import NatsBatch, create_app, make_broker, serve
from optbus.runtime.settings import ServiceSettings
from optbus.subjects import STREAMS, StreamSpec
from optbus_persistence.handlers import PersistenceDeps, persist_batch
from optbus_persistence.store import EventStore

SERVICE = "persistence"


class PersistenceSettings(ServiceSettings):
    """Settings of the persistence service (``OPTBUS_PERSISTENCE_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_PERSISTENCE_", extra="ignore")

    batch_size: int = Field(default=200, ge=1, le=10_000)
    batch_timeout_seconds: float = Field(default=0.2, gt=0)
    retry_delay_seconds: float = Field(default=2.0, gt=0)
    ack_wait_seconds: float = Field(default=60.0, gt=0)


def durable_name(spec: StreamSpec, subject: str) -> str:
    """The durable consumer name for one subject filter of a stream."""
    return f"persistence-{spec.name.lower()}-{subject.split('.')[0]}"


def _register_consumer(
    broker: NatsBroker,
    spec: StreamSpec,
    subject: str,
    settings: PersistenceSettings,
    publisher: EventPublisher,
    stores: list[EventStore],
) -> None:
    consumer = durable_name(spec, subject)
    store = EventStore(settings.database_url)
    stores.append(store)
    deps = PersistenceDeps(
        service=SERVICE,
        consumer=consumer,
        store=store,
        dead_letters=DeadLetterOffice(publisher, SERVICE, consumer, LiveClock()),
        retry_delay_seconds=settings.retry_delay_seconds,
    )

    @broker.subscriber(
        subject,
        stream=JStream(spec.name, declare=False),
        durable=consumer,
        pull_sub=PullSub(
            batch_size=settings.batch_size, timeout=settings.batch_timeout_seconds, batch=True
        ),
        ack_policy=AckPolicy.MANUAL,
        config=ConsumerConfig(
            ack_wait=settings.ack_wait_seconds, max_ack_pending=4 * settings.batch_size
        ),
    )
    async def persist(msg: NatsBatch) -> None:
        with HANDLER_SECONDS.labels(SERVICE, consumer).time():
            await persist_batch(msg.raw_message, deps)


def build_app(settings: PersistenceSettings) -> AsgiFastStream:
    """Wire the persistence service."""
    broker = make_broker(settings)
    publisher = EventPublisher(lambda: broker.connection.jetstream(), SERVICE)
    stores: list[EventStore] = []
    for spec in STREAMS:
        for subject in spec.subjects:
            _register_consumer(broker, spec, subject, settings, publisher, stores)

    async def database_reachable() -> bool:
        return await asyncio.to_thread(stores[0].ping)

    async def close_stores() -> None:
        for store in stores:
            store.close()

    return create_app(
        SERVICE,
        settings,
        broker,
        on_stopping=[close_stores],
        health_checks=[database_reachable],
    )


def main() -> None:
    """Run the persistence service until it is told to stop."""
    settings = PersistenceSettings()
    asyncio.run(serve(build_app(settings), settings))
