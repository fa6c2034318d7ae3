"""Each broker venue as execution builds it (``OPTBUS_EXECUTION_VENUE`` → the broker package's
``make_orders``, on its ``OPTBUS_<BROKER>_*`` settings), trading a whole session through the
broker's local fake: an opening order placed and filled, the position closed, the trade booked.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from execution_fixtures import CALL, LOT, T0, approved, chain, config, intent

from optbus.clock import ReplayClock
from optbus.events import Event, Fill, OrderIntent, TradeClosed
from optbus.market import load_market_facts
from optbus_brokers.backoff import Backoff
from optbus_execution.broker_reports import BrokerReports
from optbus_execution.broker_venue import BrokerSession, BrokerVenue, InstrumentIndex
from optbus_execution.engine import ExecutionEngine
from optbus_execution.live import broker_adapters
from optbus_execution.venue import VenueReport
from tests.brokers.venue_fakes import BROKERS, BrokerCase

FACTS = load_market_facts()


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
