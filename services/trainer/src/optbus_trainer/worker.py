"""The trainer service's moving parts: one training at a time, at most one per trading day,
asked for by the schedule (16:00 IST on trading days) or by a ``control.eod`` event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import date

import structlog

from optbus.clock import Clock
from optbus.market import CalendarNotCovered, MarketFacts
from optbus_trainer.schedule import TrainingSchedule

_log = structlog.get_logger()

TrainDay = Callable[[date, str], Awaitable[None]]
"""Train for one trading day; the second argument says what asked (schedule, control.eod)."""


class TrainingWorker:
    """Queues trading days to train for and trains them one after another.

    A day is trained at most once (a request for a day already trained or queued is dropped,
    with a log line), whatever asked for it.
    """

    def __init__(self, train_day: TrainDay) -> None:
        self._train_day = train_day
        self._last_requested: date | None = None
        self._queue: asyncio.Queue[tuple[date, str]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @property
    def last_requested(self) -> date | None:
        """The latest trading day asked for (trained, being trained or queued)."""
        return self._last_requested

    def resume_after(self, day: date) -> None:
        """Where a restarted service left off: ``day`` was trained already."""
        if self._last_requested is None or day > self._last_requested:
            self._last_requested = day

    def request(self, day: date, trigger: str) -> bool:
        """Queue ``day`` unless it (or a later day) was asked for already; True if queued."""
        if self._last_requested is not None and day <= self._last_requested:
            _log.info("training already done or queued", day=str(day), trigger=trigger)
            return False
        self._last_requested = day
        self._queue.put_nowait((day, trigger))
        return True

    def start(self) -> None:
        """Start training queued days in the background."""
        self._task = asyncio.create_task(self._run(), name="trainer-worker")

    async def stop(self) -> None:
        """Stop; a training under way is cancelled (nothing is registered half-way: the model
        files go first and the events last, and a re-run registers a new version)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def join(self) -> None:
        """Wait until every queued day was trained (or failed, logged)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            day, trigger = await self._queue.get()
            try:
                await self._train_day(day, trigger)
            except Exception:
                _log.exception("training failed", day=str(day), trigger=trigger)
            finally:
                self._queue.task_done()


class ScheduleLoop:
    """Asks the worker to train when the schedule says so, checking every ``interval``."""

    def __init__(
        self,
        schedule: TrainingSchedule,
        facts: MarketFacts,
        clock: Clock,
        worker: TrainingWorker,
        interval_seconds: float,
    ) -> None:
        self._schedule = schedule
        self._facts = facts
        self._clock = clock
        self._worker = worker
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def check(self) -> date | None:
        """One look at the clock: the day queued, if training is due."""
        try:
            day = self._schedule.due(self._clock.now_ns(), self._facts, self._worker.last_requested)
        except CalendarNotCovered as exc:
            _log.error("no scheduled training: the trading calendar is not on file", error=str(exc))
            return None
        if day is not None and self._worker.request(day, "schedule"):
            return day
        return None

    def start(self) -> None:
        """Check now and then every ``interval`` in the background."""
        self._task = asyncio.create_task(self._run(), name="trainer-schedule")

    async def stop(self) -> None:
        """Stop checking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self.check()
            await asyncio.sleep(self._interval)
