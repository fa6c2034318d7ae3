"""Composition root of the persistence service: a durable batch consumer per stream subject."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from faststream.asgi import AsgiFastStream
from nats.aio.client import Client
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from optbus.clock import LiveClock
from optbus.runtime.bus import DeadLetterOffice, EventPublisher
from optbus.runtime.consumer import PullConsumer, PullConsumerSpec
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.subjects import STREAMS, StreamSpec
from optbus_persistence.handlers import PersistenceDeps, persist_batch
from optbus_persistence.rows import LIVE_RUN_ID
from optbus_persistence.store import EventStore

SERVICE = "persistence"


class PersistenceSettings(ServiceSettings):
    """Settings of the persistence service (``OPTBUS_PERSISTENCE_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_PERSISTENCE_", extra="ignore")

    batch_size: int = Field(default=200, ge=1, le=10_000)
    retry_delay_seconds: float = Field(default=2.0, gt=0)
    ack_wait_seconds: float = Field(default=60.0, gt=0)
    run_id: str = Field(
        default=LIVE_RUN_ID,
        min_length=1,
        description="what the stored events are tagged with; a replay run sets its own",
    )
    streams: list[str] = Field(
        default_factory=lambda: [spec.name for spec in STREAMS],
        description="the streams to store (a replay leaves out what it can recompute)",
    )

    @field_validator("streams")
    @classmethod
    def _known_streams(cls, streams: list[str]) -> list[str]:
        unknown = sorted(set(streams) - {spec.name for spec in STREAMS})
        if unknown:
            raise ValueError(f"unknown streams {unknown}; known: {[s.name for s in STREAMS]}")
        return streams


def durable_name(spec: StreamSpec, subject: str) -> str:
    """The durable consumer name for one subject filter of a stream."""
    return f"persistence-{spec.name.lower()}-{subject.split('.')[0]}"


def _consumer(
    connection: Callable[[], Client],
    spec: StreamSpec,
    subject: str,
    settings: PersistenceSettings,
    publisher: EventPublisher,
    store: EventStore,
) -> PullConsumer:
    durable = durable_name(spec, subject)
    deps = PersistenceDeps(
        service=SERVICE,
        consumer=durable,
        store=store,
        dead_letters=DeadLetterOffice(publisher, SERVICE, durable, LiveClock()),
        retry_delay_seconds=settings.retry_delay_seconds,
    )
    consumer_spec = PullConsumerSpec(
        stream=spec.name,
        subject=subject,
        durable=durable,
        batch_size=settings.batch_size,
        ack_wait_seconds=settings.ack_wait_seconds,
        max_ack_pending=4 * settings.batch_size,
        retry_delay_seconds=settings.retry_delay_seconds,
    )
    return PullConsumer(connection, consumer_spec, partial(persist_batch, deps=deps), SERVICE)


def build_app(settings: PersistenceSettings) -> AsgiFastStream:
    """Wire the persistence service: one consumer, and one database connection, per subject."""
    broker = make_broker(settings)
    publisher = EventPublisher(lambda: broker.connection.jetstream(), SERVICE)
    stores: list[EventStore] = []
    consumers: list[PullConsumer] = []
    for spec in (spec for spec in STREAMS if spec.name in settings.streams):
        for subject in spec.subjects:
            store = EventStore(settings.database_url, settings.run_id)
            stores.append(store)
            consumers.append(
                _consumer(lambda: broker.connection, spec, subject, settings, publisher, store)
            )

    async def database_reachable() -> bool:
        return await asyncio.to_thread(stores[0].ping)

    async def close_stores() -> None:
        for store in stores:
            store.close()

    return create_app(
        SERVICE,
        settings,
        broker,
        consumers=consumers,
        on_stopping=[close_stores],
        health_checks=[database_reachable],
    )


def main() -> None:
    """Run the persistence service until it is told to stop."""
    settings = PersistenceSettings()
    run_on_uvloop(serve(build_app(settings), settings))
