"""Composition root of the market-data service: a source (simulator or file) onto the bus."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import structlog
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus.clock import LiveClock
from optbus.events import Event
from optbus.market import MarketFacts, load_market_facts
from optbus.runtime.bus import EventPublisher
from optbus.runtime.lockstep import Lockstep, WatchedConsumer
from optbus.runtime.service import ServiceRunner, create_app, make_broker, run_on_uvloop
from optbus.runtime.settings import ServiceSettings
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

    source: Literal["simulator", "file"] = "simulator"
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


async def run_service(settings: MarketDataSettings) -> bool:
    """Play the configured source; with ``exit_when_done`` stop once it is exhausted.

    Returns False when the source failed (a bad file, say).
    """
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
                _steps(settings, facts), publisher, speed, LiveClock(), lockstep,
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

    async def start_playing() -> None:
        tasks.append(asyncio.create_task(play_source()))

    async def stop_playing() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = create_app(
        TOPOLOGY, settings, broker, on_ready=[start_playing], on_stopping=[stop_playing]
    )
    runner = ServiceRunner(app, settings)
    await runner.serve()
    return not failures


def main() -> None:
    """Run the market-data service; exits non-zero when its source failed."""
    if not run_on_uvloop(run_service(MarketDataSettings())):
        raise SystemExit(1)
