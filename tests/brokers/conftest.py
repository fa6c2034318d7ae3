"""The broker fakes on a fixed market morning: Monday 2026-12-07, 10:00 IST."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from optbus.clock import ReplayClock
from tests.brokers.angel_one_fake import AngelOneFake
from tests.brokers.icici_breeze_fake import BreezeFake
from tests.brokers.kotak_neo_fake import KotakNeoFake

MARKET_DAY = date(2026, 12, 7)
MARKET_MORNING_NS = int(
    datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata")).timestamp() * 1_000_000_000
)


@pytest.fixture
def market_clock() -> ReplayClock:
    return ReplayClock(MARKET_MORNING_NS)


@pytest.fixture
async def angel_fake(market_clock: ReplayClock) -> AsyncIterator[AngelOneFake]:
    async with AngelOneFake(MARKET_DAY, market_clock) as fake:
        yield fake


@pytest.fixture
async def kotak_fake(market_clock: ReplayClock) -> AsyncIterator[KotakNeoFake]:
    async with KotakNeoFake(MARKET_DAY, market_clock) as fake:
        yield fake


@pytest.fixture
async def breeze_fake(market_clock: ReplayClock) -> AsyncIterator[BreezeFake]:
    async with BreezeFake(MARKET_DAY, market_clock) as fake:
        yield fake
