"""Composition root of the trainer service: end-of-day training on schedule and on request.

Trains at ``OPTBUS_TRAINER_TRAINING_TIME`` (16:00 IST) on trading days and on a
``control.eod`` event, at most once per trading day; each run checks the data quality first
and registers the model (object store, ``models`` table, ``model.trained``/``model.promoted``).
At ``OPTBUS_TRAINER_QUALITY_TIME`` (15:45 IST) on trading days it reports the data quality
(a ``control.dq`` event, a row and gauges), on the same once-a-day machinery.
"""

from __future__ import annotations

import asyncio
from datetime import date, time

import structlog
from faststream.asgi import AsgiFastStream
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus import subjects
from optbus.clock import Clock
from optbus.market import MarketFacts, load_market_facts
from optbus.runtime.bus import EventPublisher
from optbus.runtime.model_store import last_trained
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.runtime.wiring import LiveBus, PullTuning, pull_consumers
from optbus_trainer.dataset import InsufficientDataError
from optbus_trainer.gate import PromotionPolicy
from optbus_trainer.job import (
    DataQualityFailed,
    TrainingRequest,
    default_version,
    prepare,
    train_and_register,
)
from optbus_trainer.quality import Thresholds
from optbus_trainer.quality_report import (
    QualityWindow,
    record_report,
    run_quality_check,
    set_gauges,
    show_no_report_yet,
)
from optbus_trainer.registry import ModelRegistry
from optbus_trainer.schedule import TrainingSchedule
from optbus_trainer.topology import TOPOLOGY
from optbus_trainer.worker import ScheduleLoop, TrainDay, TrainingWorker

_log = structlog.get_logger()


class TrainerSettings(ServiceSettings):
    """Settings of the trainer service (``OPTBUS_TRAINER_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_TRAINER_", extra="ignore")

    training_time: time = Field(default=time(16, 0), description="exchange time (IST)")
    quality_time: time = Field(default=time(15, 45), description="exchange time (IST)")
    check_interval_seconds: float = Field(default=30.0, gt=0)
    force: bool = Field(default=False, description="train even if the data-quality check fails")
    min_auc_gain: float = Field(default=0.01, ge=0.0)
    quality_days: int = Field(default=5, ge=1)
    trades_threshold: float = Field(default=0.95, ge=0.0, le=1.0)
    chains_threshold: float = Field(default=0.80, ge=0.0, le=1.0)


def training_job(
    settings: TrainerSettings,
    registry: ModelRegistry,
    clock: Clock,
    thresholds: Thresholds,
    facts: MarketFacts,
) -> TrainDay:
    """One day's training: data checked, model trained, gated and registered; too little or
    failing data is a warning in the log and no model."""

    async def train_day(day: date, trigger: str) -> None:
        request = TrainingRequest(
            version=default_version(clock.now_ns()), force=settings.force,
            quality_days=settings.quality_days, thresholds=thresholds,
            policy=PromotionPolicy(min_auc_gain=settings.min_auc_gain),
        )  # fmt: skip
        log = _log.bind(day=str(day), trigger=trigger, version=request.version)

        def progress(message: str) -> None:
            log.info(message)

        try:
            prepared = await asyncio.to_thread(
                prepare,
                request,
                database_url=settings.database_url,
                facts=facts,
                progress=progress,
            )
        except (InsufficientDataError, DataQualityFailed) as exc:
            log.warning("no model trained", reason=str(exc))
            return
        outcome = await train_and_register(request, prepared, registry=registry, progress=progress)
        log.info(
            "training done", status=outcome.registration.status,
            reason=outcome.run.decision.reason, hash=outcome.run.artifact.metadata.model_sha256,
        )  # fmt: skip

    return train_day


def quality_job(
    settings: TrainerSettings, publisher: EventPublisher, clock: Clock, thresholds: Thresholds
) -> TrainDay:
    """One day's data-quality report: a ``control.dq`` event, a row and the gauges."""

    async def report_quality(day: date, trigger: str) -> None:
        window = QualityWindow.ending(clock.now_ns(), settings.quality_days)
        event = await asyncio.to_thread(
            run_quality_check, settings.database_url, window, thresholds, clock
        )
        await asyncio.to_thread(record_report, settings.database_url, event)
        await publisher.publish(subjects.DATA_QUALITY, event)
        set_gauges(event)
        _log.info("data quality reported", day=str(day), trigger=trigger, passed=event.passed)

    return report_quality


def build_app(settings: TrainerSettings) -> AsgiFastStream:
    """Wire the trainer: the workers, their schedules, and the ``control.eod`` consumer."""
    broker = make_broker(settings)
    bus = LiveBus(broker, TOPOLOGY.service, TOPOLOGY.make_clock(settings.clock))
    clock, jetstream = bus.clock, bus.jetstream
    registry = ModelRegistry(jetstream, settings.database_url, clock, TOPOLOGY.service)
    thresholds = Thresholds(trades=settings.trades_threshold, chains=settings.chains_threshold)
    show_no_report_yet(thresholds)
    facts, interval = load_market_facts(), settings.check_interval_seconds
    worker = TrainingWorker(training_job(settings, registry, clock, thresholds, facts))
    quality_worker = TrainingWorker(quality_job(settings, bus.publisher, clock, thresholds))
    training_schedule = TrainingSchedule(at=settings.training_time)
    schedules = [
        ScheduleLoop(training_schedule, facts, clock, worker, interval),
        ScheduleLoop(TrainingSchedule(at=settings.quality_time), facts, clock, quality_worker,
                     interval),
    ]  # fmt: skip

    async def resume() -> None:
        trained = await last_trained(jetstream())
        if trained is not None:
            worker.resume_after(training_schedule.covered_day(trained.ts_event, facts))
        worker.start()
        quality_worker.start()

    async def start_schedules() -> None:
        for schedule in schedules:
            schedule.start()

    async def stop() -> None:
        for schedule in schedules:
            await schedule.stop()
        await worker.stop()
        await quality_worker.stop()

    consumers = pull_consumers(TOPOLOGY, worker, bus, PullTuning())
    return create_app(
        TOPOLOGY, settings, broker, consumers=consumers,
        on_connected=[resume], on_ready=[start_schedules], on_stopping=[stop],
    )  # fmt: skip


def main() -> None:
    """Run the trainer service until it is told to stop."""
    settings = TrainerSettings()
    run_on_uvloop(serve(build_app(settings), settings))
