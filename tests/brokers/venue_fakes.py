"""Each broker's local fake seen the same way by the venue and feed session tests, in process and
on the bus: its environment, instruments and quotes, a round of its market, what it holds, and
quotes (good or bad) framed as the broker frames them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import pytest

from optbus.clock import Clock
from optbus_brokers.angel_one.smartstream import EXCHANGE_TYPES
from optbus_brokers.feed import Instrument
from tests.brokers.angel_one_fake import AngelOneFake, encode_snap_quote
from tests.brokers.conftest import MARKET_DAY
from tests.brokers.icici_breeze_fake import BreezeFake, quote_frame
from tests.brokers.kotak_neo_fake import KotakNeoFake
from tests.brokers.quote_model import ModelQuote, QuoteModel

SPOTS = {"NIFTY": 26_000.0, "BANKNIFTY": 52_000.0}
"""Spots that put the execution fixtures' NIFTY strikes around the money."""
ROOM_FOR_A_SHORT = 10_000_000.0
"""Margin enough for the closing sell, which a fake may margin as a new short."""
_NS_PER_MS = 1_000_000
_NS_PER_SECOND = 1_000_000_000

Circuits = tuple[float, float]
"""A price band, lower and upper limit, in rupees."""


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
    quote_round: Callable[[], Awaitable[object]]
    """One round of the stream: a quote of every subscribed instrument to every connection."""
    send_quote: Callable[[Instrument, ModelQuote, Circuits | None], Awaitable[None]]
    """A quote of any instrument (listed or not) to every connection, framed as the broker
    frames it, in the fake's price band or the one given."""
    send_truncated: Callable[[Instrument], Awaitable[None]]
    """A frame of an instrument's quote cut short, to every connection."""
    truncated_reason: str
    """The reason the broker's adapter gives for dropping that frame."""


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

        async def send_quote(
            instrument: Instrument, quote: ModelQuote, band: Circuits | None
        ) -> None:
            await fake.send_raw(encode_snap_quote(
                instrument.token, EXCHANGE_TYPES[instrument.segment], sequence=fake.rounds + 1,
                exchange_ms=clock.now_ns() // _NS_PER_MS, quote=quote, tick=instrument.tick_size,
                circuits=band,
            ))  # fmt: skip

        async def send_truncated(instrument: Instrument) -> None:
            await fake.send_raw(fake.snap_quote_frame(instrument.token)[:-10])

        yield FakeBroker(
            fake.environment(), fake.instruments, lambda i: fake.quote(i.token),
            fake.publish_round, open_margin, lambda: len(fake.desk.orders), held,
            fake.publish_round, send_quote, send_truncated,
            "truncated mode-3 frame: 369 of 379 bytes",
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

        async def send_quote(
            instrument: Instrument, quote: ModelQuote, band: Circuits | None
        ) -> None:
            await fake.send_to_feeds(fake.touch_line_packet_of(instrument, quote, band))

        async def send_truncated(instrument: Instrument) -> None:
            await fake.send_to_feeds(fake.touch_line_packet(instrument.token)[:-10])

        yield FakeBroker(
            fake.environment(), fake.contracts, fake.quote, next_round, open_margin,
            lambda: len(fake.orders.orders), held, fake.broadcast, send_quote, send_truncated,
            "truncated packet",
        )  # fmt: skip


@asynccontextmanager
async def _icici_breeze(clock: Clock) -> AsyncIterator[FakeBroker]:
    async with BreezeFake(MARKET_DAY, clock, model=QuoteModel(spots=SPOTS)) as fake:

        def open_margin() -> None:
            fake.desk.allocated_fno = ROOM_FOR_A_SHORT

        def held(instrument: Instrument) -> int:
            position = fake.desk.positions.get(instrument.token)
            return 0 if position is None else position.net

        async def send_quote(
            instrument: Instrument, quote: ModelQuote, band: Circuits | None
        ) -> None:
            ltt_s = clock.now_ns() // _NS_PER_SECOND
            await fake.send_raw(quote_frame(instrument, quote, ltt_s, band))

        async def send_truncated(instrument: Instrument) -> None:
            ltt_s = clock.now_ns() // _NS_PER_SECOND
            await fake.send_raw(quote_frame(instrument, fake.quote(instrument), ltt_s)[:20])

        yield FakeBroker(
            fake.environment(), fake.instruments, fake.quote, fake.publish_quotes, open_margin,
            lambda: len(fake.desk.orders), held, fake.publish_quotes, send_quote, send_truncated,
            "frame not 21 or 23 fields",
        )  # fmt: skip


BROKERS = [
    pytest.param(BrokerCase("angel-one", _angel_one), id="angel-one"),
    pytest.param(BrokerCase("kotak-neo", _kotak_neo), id="kotak-neo"),
    pytest.param(BrokerCase("icici-breeze", _icici_breeze), id="icici-breeze"),
]
"""Every broker venue with its fake, for ``pytest.mark.parametrize("case", BROKERS)``."""
