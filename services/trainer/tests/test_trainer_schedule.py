"""When the trainer trains: 16:00 IST on trading days, once per day, by the calendar's data."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time

import pytest

from optbus.clock import ReplayClock
from optbus.market import CalendarNotCovered, load_market_facts
from optbus_trainer.main import TrainerSettings
from optbus_trainer.schedule import TrainingSchedule
from optbus_trainer.worker import ScheduleLoop, TrainingWorker

FACTS = load_market_facts()
SCHEDULE = TrainingSchedule()
TUESDAY = date(2026, 12, 1)
REPUBLIC_DAY = date(2026, 1, 26)
SATURDAY = date(2026, 12, 5)


def ist_ns(day: date, hour: int, minute: int = 0) -> int:
    """Epoch nanoseconds of a wall time in IST."""
    moment = datetime.combine(day, time(hour, minute), tzinfo=FACTS.timezone)
    return int(moment.timestamp()) * 1_000_000_000


def test_at_four_pm_ist_on_a_trading_day_training_is_due_for_that_day() -> None:
    assert SCHEDULE.due(ist_ns(TUESDAY, 16), FACTS, last_trained=None) == TUESDAY


def test_later_that_evening_training_is_still_due_if_it_has_not_run() -> None:
    assert SCHEDULE.due(ist_ns(TUESDAY, 21, 30), FACTS, last_trained=date(2026, 11, 30)) == TUESDAY


def test_before_four_pm_training_is_not_due() -> None:
    assert SCHEDULE.due(ist_ns(TUESDAY, 15, 59), FACTS, last_trained=None) is None


def test_on_a_trading_holiday_training_is_not_due() -> None:
    assert SCHEDULE.due(ist_ns(REPUBLIC_DAY, 16), FACTS, last_trained=None) is None


def test_on_a_weekend_training_is_not_due() -> None:
    assert SCHEDULE.due(ist_ns(SATURDAY, 16), FACTS, last_trained=None) is None


def test_once_trained_for_the_day_training_is_not_due_again_that_day() -> None:
    assert SCHEDULE.due(ist_ns(TUESDAY, 16, 30), FACTS, last_trained=TUESDAY) is None


def test_the_training_time_is_configurable() -> None:
    evening = TrainingSchedule(at=time(18, 0))

    assert evening.due(ist_ns(TUESDAY, 17), FACTS, last_trained=None) is None
    assert evening.due(ist_ns(TUESDAY, 18), FACTS, last_trained=None) == TUESDAY


def test_a_year_without_a_holiday_list_is_an_error_not_a_guess() -> None:
    with pytest.raises(CalendarNotCovered):
        SCHEDULE.due(ist_ns(date(2031, 6, 3), 16), FACTS, last_trained=None)


def test_a_morning_training_covers_the_previous_evening_not_the_coming_one() -> None:
    assert SCHEDULE.covered_day(ist_ns(TUESDAY, 10), FACTS) == date(2026, 11, 30)
    assert SCHEDULE.covered_day(ist_ns(TUESDAY, 16, 5), FACTS) == TUESDAY


async def test_the_worker_trains_a_day_once_whoever_asks() -> None:
    trained: list[tuple[date, str]] = []

    async def train_day(day: date, trigger: str) -> None:
        trained.append((day, trigger))

    worker = TrainingWorker(train_day)
    worker.start()
    clock = ReplayClock(ist_ns(TUESDAY, 16))
    loop = ScheduleLoop(SCHEDULE, FACTS, clock, worker, interval_seconds=60)

    assert worker.request(TUESDAY, "control.eod")
    assert loop.check() is None
    clock.advance_to(ist_ns(TUESDAY, 20))
    assert loop.check() is None
    await asyncio.wait_for(worker.join(), timeout=5)
    await worker.stop()

    assert trained == [(TUESDAY, "control.eod")]


async def test_the_schedule_asks_the_worker_for_the_day_when_it_is_due() -> None:
    trained: list[tuple[date, str]] = []

    async def train_day(day: date, trigger: str) -> None:
        trained.append((day, trigger))

    worker = TrainingWorker(train_day)
    worker.start()
    clock = ReplayClock(ist_ns(TUESDAY, 15, 45))
    loop = ScheduleLoop(SCHEDULE, FACTS, clock, worker, interval_seconds=60)

    assert loop.check() is None
    clock.advance_to(ist_ns(TUESDAY, 16))
    assert loop.check() == TUESDAY
    await asyncio.wait_for(worker.join(), timeout=5)
    await worker.stop()

    assert trained == [(TUESDAY, "schedule")]


async def test_a_restarted_trainer_does_not_train_again_the_day_it_already_trained() -> None:
    worker = TrainingWorker(lambda day, trigger: asyncio.sleep(0))
    worker.resume_after(SCHEDULE.covered_day(ist_ns(TUESDAY, 16, 2), FACTS))
    loop = ScheduleLoop(SCHEDULE, FACTS, ReplayClock(ist_ns(TUESDAY, 17)), worker, 60)

    assert loop.check() is None


async def test_a_failing_training_is_logged_and_the_worker_goes_on() -> None:
    trained: list[date] = []

    async def train_day(day: date, trigger: str) -> None:
        if day == TUESDAY:
            raise RuntimeError("database down")
        trained.append(day)

    worker = TrainingWorker(train_day)
    worker.start()
    worker.request(TUESDAY, "schedule")
    worker.request(date(2026, 12, 2), "schedule")
    await asyncio.wait_for(worker.join(), timeout=5)
    await worker.stop()

    assert trained == [date(2026, 12, 2)]


def test_the_data_quality_report_is_due_at_15_45_ist_before_training_at_16_00() -> None:
    settings = TrainerSettings()
    quality, training = (
        TrainingSchedule(at=settings.quality_time),
        TrainingSchedule(at=settings.training_time),
    )

    at_15_45 = ist_ns(TUESDAY, 15, 45)

    assert quality.due(at_15_45, FACTS, None) == TUESDAY
    assert training.due(at_15_45, FACTS, None) is None
    assert quality.due(ist_ns(TUESDAY, 15, 44), FACTS, None) is None
