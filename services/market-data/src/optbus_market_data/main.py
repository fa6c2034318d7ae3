"""Composition root of the market-data service: a source (simulator, file, broker) onto the bus."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import structlog
from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from optbus.clock import Clock, LiveClock
from optbus.events import Event
from optbus.market import MarketFacts, load_market_facts
from optbus.routing import subject_of
from optbus.runtime.bus import EventPublisher
from optbus.runtime.lockstep import Lockstep, WatchedConsumer
from optbus.runtime.service import ServiceRunner, create_app, make_broker, run_on_uvloop
from optbus.runtime.settings import ServiceSettings
from optbus_brokers.backoff import Backoff
from optbus_brokers.feed import FeedLoginFailed
from optbus_market_data.feeds.registry import (
    BROKER_SOURCES,
    FeedFactory,
    UnknownSource,
    feed_factory,
)
from optbus_market_data.feeds.session import FeedConfig, FeedSession, FeedUnusable
from optbus_market_data.pacing import parse_speed
from optbus_market_data.publishing import play
from optbus_market_data.recorded import read_session
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig
from optbus_market_data.topology import TOPOLOGY

SERVICE = TOPOLOGY.service
_log = structlog.get_logger()


class MarketDataSettings(ServiceSettings):
    """Settings of the market-data service (``OPTBUS_MARKET_DATA_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_MARKET_DATA_", extra="ignore")

    source: Literal["simulator", "file", "angel-one", "kotak-neo", "icici-breeze"] = "simulator"
    file: Path | None = Field(default=None, description="recorded session (CSV or Parquet)")
    seed: int = 7
    run_id: str | None = Field(default=None, description="default: a fresh id per start")
    start_date: date | None = Field(default=None, description="default: today or next session")
    days: int = Field(default=1, ge=1)
    minutes: int | None = Field(default=None, ge=1, description="trading minutes per run")
    step_seconds: float = Field(default=1.0, gt=0)
    speed: str = Field(default="1", description="'max' or a multiple of real time")
    exit_when_done: bool = False
    lockstep_consumers: list[tuple[str, str, str]] = Field(
        default_factory=list,
        description=(
            "durable consumers to pace to, as JSON [[stream, durable, filter subject], ...]: "
            "the source never runs more than lockstep_steps_ahead steps ahead of them"
        ),
    )
    lockstep_steps_ahead: int = Field(
        default=2, ge=1, description="1: each step once the previous one is fully handled"
    )
    underlyings: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("NIFTY", "BANKNIFTY"), description="broker feeds: comma-separated underlyings"
    )
    strikes_each_side: int = Field(default=15, ge=0, description="broker feeds: ±N strikes")
    expiries: int = Field(default=2, ge=1, description="broker feeds: expiries per underlying")
    conflation_seconds: float = Field(default=1.0, gt=0, description="one snapshot per chain per")
    stale_seconds: float = Field(default=10.0, gt=0, description="a quote older is stale")
    reconnect_base_seconds: float = Field(default=1.0, gt=0)
    reconnect_max_seconds: float = Field(default=30.0, gt=0)

    @field_validator("underlyings", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(name.strip().upper() for name in value.split(",") if name.strip())
        return value


def _default_start(facts: MarketFacts) -> date:
    return facts.trading_day_from(datetime.now(facts.timezone).date())


def _steps(settings: MarketDataSettings, facts: MarketFacts) -> Iterator[list[Event]]:
    if settings.source == "file":
        if settings.file is None:
            raise ValueError("OPTBUS_MARKET_DATA_FILE is required with the file source")
        steps: Iterator[list[Event]] = read_session(settings.file)
    else:
        config = SimulatorConfig(
            seed=settings.seed,
            run_id=settings.run_id or f"sim-{settings.seed}-{uuid.uuid4().hex[:12]}",
            start_date=settings.start_date or _default_start(facts),
            days=settings.days,
            step_seconds=settings.step_seconds,
        )
        steps = ChainSimulator(config, facts, LiveClock()).ticks()
    if settings.minutes is not None:
        steps = itertools.islice(steps, int(settings.minutes * 60 / settings.step_seconds))
    return steps


def _feed_session(
    settings: MarketDataSettings, factory: FeedFactory, publisher: EventPublisher, clock: Clock
) -> FeedSession:
    async def publish(events: Sequence[Event]) -> None:
        await publisher.publish_all([(subject_of(event), event) for event in events])

    config = FeedConfig(
        run_id=settings.run_id or f"feed-{settings.source}-{uuid.uuid4().hex[:12]}",
        underlyings=settings.underlyings, strikes_each_side=settings.strikes_each_side,
        expiries=settings.expiries, conflation_seconds=settings.conflation_seconds,
        stale_seconds=settings.stale_seconds,
        backoff=Backoff(settings.reconnect_base_seconds, settings.reconnect_max_seconds),
    )  # fmt: skip
    return FeedSession(factory(clock), config, publish, load_market_facts(), clock,
                       random.Random())  # fmt: skip


@dataclass(frozen=True)
class MarketDataService:
    """The service, built: its runner, and what failed once it has stopped."""

    runner: ServiceRunner
    failures: list[str]


def build_service(
    settings: MarketDataSettings, factory: FeedFactory | None = None, clock: Clock | None = None
) -> MarketDataService:
    """Wire the configured source onto the bus; with ``exit_when_done`` stop once exhausted.

    A broker source (``factory``) runs until stopped, on ``clock`` (the wall clock unless a
    test brings the market's).
    """
    clock = clock or LiveClock()
    broker = make_broker(settings)
    publisher = EventPublisher(lambda: broker.connection.jetstream(), SERVICE)
    facts = load_market_facts()
    speed = parse_speed(settings.speed)
    tasks: list[asyncio.Task[None]] = []
    failures: list[str] = []
    runner: ServiceRunner

    async def play_source() -> None:
        try:
            lockstep = None
            if settings.lockstep_consumers:
                lockstep = Lockstep(WatchedConsumer(*c) for c in settings.lockstep_consumers)
                await lockstep.watch(broker.connection)
            sent = await play(
                _steps(settings, facts), publisher, speed, clock, lockstep,
                settings.lockstep_steps_ahead,
            )  # fmt: skip
        except Exception:
            _log.exception("the source failed; stopping")
            failures.append("source")
            runner.request_stop()
            return
        _log.info("source exhausted", events=sent)
        if settings.exit_when_done:
            runner.request_stop()

    async def follow_broker(factory: FeedFactory) -> None:
        try:
            await _feed_session(settings, factory, publisher, clock).run()
        except (FeedLoginFailed, FeedUnusable) as exc:
            _log.error("the broker feed cannot start; stopping", source=settings.source,
                       reason=str(exc))  # fmt: skip
        except Exception:
            _log.exception("the broker feed failed; stopping", source=settings.source)
        failures.append("source")
        runner.request_stop()

    source: Callable[[], Coroutine[Any, Any, None]] = (
        play_source if factory is None else lambda: follow_broker(factory)
    )

    async def start_playing() -> None:
        tasks.append(asyncio.create_task(source()))

    async def stop_playing() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = create_app(
        TOPOLOGY, settings, broker, on_ready=[start_playing], on_stopping=[stop_playing]
    )
    runner = ServiceRunner(app, settings)
    return MarketDataService(runner, failures)


async def run_service(settings: MarketDataSettings, factory: FeedFactory | None = None) -> bool:
    """Run the service until its source is done or it is told to stop.

    Returns False when the source failed (a bad file, refused broker credentials, say).
    """
    service = build_service(settings, factory)
    await service.runner.serve()
    return not service.failures


def main() -> None:
    """Run the market-data service; exits non-zero when its source failed or is unknown."""
    settings = MarketDataSettings()
    try:
        factory = feed_factory(settings.source) if settings.source in BROKER_SOURCES else None
    except UnknownSource as exc:
        raise SystemExit(f"market-data: {exc}") from exc
    if not run_on_uvloop(run_service(settings, factory)):
        raise SystemExit(1)
