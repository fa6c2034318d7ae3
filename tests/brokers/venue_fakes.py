"""Each broker's local fake seen the same way by the venue session tests, in process and on the
bus: its environment, instruments and quotes, a round of its market, and what it holds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import pytest

from optbus.clock import Clock
from optbus_brokers.feed import Instrument
from tests.brokers.angel_one_fake import AngelOneFake
from tests.brokers.conftest import MARKET_DAY
from tests.brokers.icici_breeze_fake import BreezeFake
from tests.brokers.kotak_neo_fake import KotakNeoFake
from tests.brokers.quote_model import ModelQuote, QuoteModel

SPOTS = {"NIFTY": 26_000.0, "BANKNIFTY": 52_000.0}
"""Spots that put the execution fixtures' NIFTY strikes around the money."""
ROOM_FOR_A_SHORT = 10_000_000.0
"""Margin enough for the closing sell, which a fake may margin as a new short."""


@dataclass(frozen=True, slots=True)
class FakeBroker:
    """What a venue session test needs of one broker's fake, whatever its own spelling."""

    environment: dict[str, str]
    instruments: list[Instrument]
    quote: Callable[[Instrument], ModelQuote]
    next_round: Callable[[], Awaitable[object]]
    """One round of the market: new quotes, and working orders matched against them."""
    open_margin: Callable[[], None]
    orders_placed: Callable[[], int]
    held: Callable[[Instrument], int]
    """The account's net position in an instrument at the broker."""


@dataclass(frozen=True, slots=True)
class BrokerCase:
    venue: str
    start: Callable[[Clock], AbstractAsyncContextManager[FakeBroker]]


@asynccontextmanager
async def _angel_one(clock: Clock) -> AsyncIterator[FakeBroker]:
    async with AngelOneFake(MARKET_DAY, clock, model=QuoteModel(spots=SPOTS)) as fake:

        def open_margin() -> None:
            fake.desk.available_margin = ROOM_FOR_A_SHORT

        def held(instrument: Instrument) -> int:
            position = fake.desk.positions.get(instrument.token)
            return 0 if position is None else position.net_quantity

        yield FakeBroker(
            fake.environment(), fake.instruments, lambda i: fake.quote(i.token),
            fake.publish_round, open_margin, lambda: len(fake.desk.orders), held,
        )  # fmt: skip


@asynccontextmanager
async def _kotak_neo(clock: Clock) -> AsyncIterator[FakeBroker]:
    async with KotakNeoFake(MARKET_DAY, clock, model=QuoteModel(spots=SPOTS)) as fake:

        async def next_round() -> None:
            fake.orders.match_orders()

        def open_margin() -> None:
            fake.orders.available_margin = ROOM_FOR_A_SHORT

        def held(instrument: Instrument) -> int:
            position = fake.orders.positions.get(instrument.token)
            if position is None:
                return 0
            return position.carried_net + position.bought - position.sold

        yield FakeBroker(
            fake.environment(), fake.contracts, fake.quote, next_round, open_margin,
            lambda: len(fake.orders.orders), held,
        )  # fmt: skip


@asynccontextmanager
async def _icici_breeze(clock: Clock) -> AsyncIterator[FakeBroker]:
    async with BreezeFake(MARKET_DAY, clock, model=QuoteModel(spots=SPOTS)) as fake:

        def open_margin() -> None:
            fake.desk.allocated_fno = ROOM_FOR_A_SHORT

        def held(instrument: Instrument) -> int:
            position = fake.desk.positions.get(instrument.token)
            return 0 if position is None else position.net

        yield FakeBroker(
            fake.environment(), fake.instruments, fake.quote, fake.publish_quotes, open_margin,
            lambda: len(fake.desk.orders), held,
        )  # fmt: skip


BROKERS = [
    pytest.param(BrokerCase("angel-one", _angel_one), id="angel-one"),
    pytest.param(BrokerCase("kotak-neo", _kotak_neo), id="kotak-neo"),
    pytest.param(BrokerCase("icici-breeze", _icici_breeze), id="icici-breeze"),
]
"""Every broker venue with its fake, for ``pytest.mark.parametrize("case", BROKERS)``."""
