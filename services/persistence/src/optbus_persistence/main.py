"""Composition root of the persistence service: a durable batch consumer per stream subject."""

from __future__ import annotations

from functools import partial

from faststream.asgi import AsgiFastStream
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from optbus import database
from optbus.runtime.health import threaded_check
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.runtime.wiring import LiveBus, PullTuning, pull_consumers
from optbus.subjects import STREAMS
from optbus_persistence.rows import LIVE_RUN_ID
from optbus_persistence.store import EventStore
from optbus_persistence.topology import TOPOLOGY, StoreDeps


class PersistenceSettings(ServiceSettings):
    """Settings of the persistence service (``OPTBUS_PERSISTENCE_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_PERSISTENCE_", extra="ignore")

    batch_size: int = Field(default=200, ge=1, le=TOPOLOGY.delivery.max_ack_pending)
    retry_delay_seconds: float = Field(default=2.0, gt=0)
    linger_seconds: float = Field(
        default=0.2,
        ge=0,
        le=5,
        description=(
            "how long a batch that is not full waits for more: the store's work on a burst of "
            "chains then comes after the trading services' work on it, not beside it"
        ),
    )
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


def build_app(settings: PersistenceSettings) -> AsgiFastStream:
    """Wire the persistence service: one consumer, and one database connection, per subject."""
    broker = make_broker(settings)
    bus = LiveBus(broker, TOPOLOGY.service, TOPOLOGY.make_clock(settings.clock))
    deps = StoreDeps(
        partial(EventStore, settings.database_url, settings.run_id), settings.retry_delay_seconds
    )
    # How long a batch may go unacked, how much is in flight and how often a message is
    # delivered are the durables' own, declared in TOPOLOGY.delivery.
    tuning = PullTuning(
        batch_size=settings.batch_size,
        retry_delay_seconds=settings.retry_delay_seconds,
        linger_seconds=settings.linger_seconds,
    )
    consumers = pull_consumers(
        TOPOLOGY, deps, bus, tuning, only=lambda consumer: consumer.stream in settings.streams
    )

    async def close_stores() -> None:
        for store in deps.stores:
            store.close()

    return create_app(
        TOPOLOGY,
        settings,
        broker,
        consumers=consumers,
        on_stopping=[close_stores],
        health_checks={"database": threaded_check(lambda: database.answers(settings.database_url))},
    )


def main() -> None:
    """Run the persistence service until it is told to stop."""
    settings = PersistenceSettings()
    run_on_uvloop(serve(build_app(settings), settings))
