"""A running ICICI Breeze fake for each test, on a fixed trading day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest_asyncio

from tests.brokers.icici_breeze_fake import BreezeFake

TRADING_DAY = date(2026, 12, 4)
# 10:00 IST on the trading day: what the fake stamps its quotes with.
EXCHANGE_TIME_NS = int(datetime(2026, 12, 4, 4, 30, tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest_asyncio.fixture
async def breeze_fake() -> AsyncIterator[BreezeFake]:
    fake = await BreezeFake(today=TRADING_DAY, clock=lambda: EXCHANGE_TIME_NS).start()
    yield fake
    await fake.stop()
