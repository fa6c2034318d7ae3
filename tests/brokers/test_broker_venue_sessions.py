"""Each broker venue as execution builds it (``OPTBUS_EXECUTION_VENUE`` → the broker package's
``make_orders``, on its ``OPTBUS_<BROKER>_*`` settings), trading a whole session through the
broker's local fake: an opening order placed and filled, the position closed, the trade booked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import pytest
from execution_fixtures import CALL, LOT, T0, approved, chain, config, intent

from optbus.clock import ReplayClock
from optbus.events import Event, Fill, OrderIntent, TradeClosed
from optbus.market import load_market_facts
from optbus_brokers.backoff import Backoff
from optbus_brokers.feed import Instrument
from optbus_execution.broker_reports import BrokerReports
from optbus_execution.broker_venue import BrokerSession, BrokerVenue, InstrumentIndex
from optbus_execution.engine import ExecutionEngine
from optbus_execution.live import broker_adapters
from optbus_execution.venue import VenueReport
from tests.brokers.angel_one_fake import AngelOneFake
from tests.brokers.conftest import MARKET_DAY
from tests.brokers.icici_breeze_fake import BreezeFake
from tests.brokers.kotak_neo_fake import KotakNeoFake
from tests.brokers.quote_model import ModelQuote, QuoteModel

FACTS = load_market_facts()
SPOTS = {"NIFTY": 26_000.0, "BANKNIFTY": 52_000.0}
ROOM_FOR_A_SHORT = 10_000_000.0
"""Margin enough for the closing sell, which a fake may margin as a new short."""


@dataclass(frozen=True, slots=True)
class FakeBroker:
    """What the session test needs of one broker's fake, whatever its own spelling."""

    environment: dict[str, str]
    instruments: list[Instrument]
    quote: Callable[[Instrument], ModelQuote]
    next_round: Callable[[], Awaitable[object]]
    open_margin: Callable[[], None]
    orders_placed: Callable[[], int]


@dataclass(frozen=True, slots=True)
class BrokerCase:
    venue: str
    start: Callable[[ReplayClock], AbstractAsyncContextManager[FakeBroker]]


@asynccontextmanager
async def _angel_one(clock: ReplayClock) -> AsyncIterator[FakeBroker]:
    async with AngelOneFake(MARKET_DAY, clock, model=QuoteModel(spots=SPOTS)) as fake:

        def open_margin() -> None:
            fake.desk.available_margin = ROOM_FOR_A_SHORT

        yield FakeBroker(
            fake.environment(), fake.instruments, lambda i: fake.quote(i.token),
            fake.publish_round, open_margin, lambda: len(fake.desk.orders),
        )  # fmt: skip


@asynccontextmanager
async def _kotak_neo(clock: ReplayClock) -> AsyncIterator[FakeBroker]:
    async with KotakNeoFake(MARKET_DAY, clock, model=QuoteModel(spots=SPOTS)) as fake:

        async def next_round() -> None:
            fake.orders.match_orders()

        def open_margin() -> None:
            fake.orders.available_margin = ROOM_FOR_A_SHORT

        yield FakeBroker(
            fake.environment(), fake.contracts, fake.quote, next_round, open_margin,
            lambda: len(fake.orders.orders),
        )  # fmt: skip


@asynccontextmanager
async def _icici_breeze(clock: ReplayClock) -> AsyncIterator[FakeBroker]:
    async with BreezeFake(MARKET_DAY, clock, model=QuoteModel(spots=SPOTS)) as fake:

        def open_margin() -> None:
            fake.desk.allocated_fno = ROOM_FOR_A_SHORT

        yield FakeBroker(
            fake.environment(), fake.instruments, fake.quote, fake.publish_quotes, open_margin,
            lambda: len(fake.desk.orders),
        )  # fmt: skip


BROKERS = [
    pytest.param(BrokerCase("angel-one", _angel_one), id="angel-one"),
    pytest.param(BrokerCase("kotak-neo", _kotak_neo), id="kotak-neo"),
    pytest.param(BrokerCase("icici-breeze", _icici_breeze), id="icici-breeze"),
]


@pytest.mark.parametrize("case", BROKERS)
async def test_a_whole_session_on_the_venue_ends_in_a_closed_trade_with_net_pnl(
    case: BrokerCase, market_clock: ReplayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with case.start(market_clock) as fake:
        for name, value in fake.environment.items():
            monkeypatch.setenv(name, value)
        adapter = broker_adapters(case.venue).orders(market_clock)
        assert adapter.name == case.venue
        await adapter.login()
        clock = ReplayClock(T0)
        reports = BrokerReports(adapter.name, FACTS, clock, brokerage_per_order=20.0)
        holder: list[ExecutionEngine] = []
        venue = BrokerVenue(
            reports, InstrumentIndex(fake.instruments), FACTS,
            lambda contract: holder[0].state.book.quote(contract),
            lambda intent_id: holder[0].state.margins.get(intent_id), protection=0.05,
        )  # fmt: skip
        engine = ExecutionEngine(config().execution(), venue, clock, FACTS)
        holder.append(engine)
        events: list[Event] = []

        async def deliver(report: VenueReport) -> None:
            events.extend(engine.on_report(report))

        async def no_wait(_seconds: float) -> None:
            return None

        session = BrokerSession(
            adapter, venue, deliver, clock, backoff=Backoff(0.01, 0.05), sleep=no_wait
        )
        call = venue.instruments.instrument(CALL)
        assert call is not None

        async def trade(order_intent: OrderIntent, done: Callable[[], bool]) -> None:
            engine.on_chain(chain(T0))
            events.extend(engine.on_decision(approved(order_intent)))
            await session.send_queued()
            for _ in range(30):
                await session.poll()
                if done():
                    return
                await fake.next_round()
            raise AssertionError(f"{case.venue} never filled the order")

        ask = fake.quote(call).ask
        assert ask is not None
        lots = 2
        entry = intent("BUY", lots * LOT, limit_price=round(ask * 1.3, 1))
        await trade(
            entry, lambda: bool(engine.positions()) and engine.positions()[0].quantity == lots * LOT
        )
        assert [e for e in events if isinstance(e, Fill)]
        [position] = engine.positions()

        bid = fake.quote(call).bid
        assert bid is not None
        fake.open_margin()
        exit_intent = intent(
            "SELL", lots * LOT, purpose="close", limit_price=round(bid * 0.7, 1),
            intent_id="intent-exit", position_ids=[position.position_id],
        )  # fmt: skip
        await trade(exit_intent, lambda: not engine.positions())
        [closed] = [e for e in events if isinstance(e, TradeClosed)]
        assert closed.net_pnl == pytest.approx(closed.gross_pnl - closed.charges)
        assert fake.orders_placed() == 2
