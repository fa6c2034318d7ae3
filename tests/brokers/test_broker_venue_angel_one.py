"""Execution's broker venue over the real Angel One order adapter and the local Angel One.

The venue queues what the engine orders, the session sends it through the adapter to the fake,
and every report it delivers is an ``exec.*`` event: acceptance, the broker's own rejection
texts (margin, price band), fills named by the broker's trade ids, and no duplicate order when
a placement times out after the broker took it.
"""

from __future__ import annotations

import asyncio
import random

import msgspec
import pytest
from execution_fixtures import CALL, LOT, T0, approved, chain, config, intent

from optbus.clock import ReplayClock
from optbus.events import (
    Contract,
    Event,
    Fill,
    Order,
    OrderAccepted,
    OrderRejected,
)
from optbus.market import load_market_facts
from optbus_brokers.angel_one import make_feed, make_orders
from optbus_brokers.backoff import Backoff
from optbus_brokers.feed import Instrument
from optbus_brokers.orders import BrokerOrders
from optbus_execution.broker_reports import BrokerReports
from optbus_execution.broker_venue import BrokerSession, BrokerVenue, InstrumentIndex
from optbus_execution.engine import ExecutionEngine
from optbus_execution.live_link import LinkTiming, LiveLink
from optbus_execution.reconcile import position_differences
from optbus_execution.venue import VenueReport
from tests.brokers.angel_one_fake import AngelOneFake
from tests.brokers.conftest import MARKET_DAY
from tests.brokers.quote_model import QuoteModel

FACTS = load_market_facts()


class _Link:
    """The venue and its session over the adapter, with every delivered report kept."""

    def __init__(self, fake: AngelOneFake, adapter: BrokerOrders, clock: ReplayClock) -> None:
        self.fake = fake
        self.delivered: list[VenueReport] = []
        reports = BrokerReports(adapter.name, FACTS, clock, brokerage_per_order=20.0)
        self.margins: dict[str, float] = {}
        """Risk's margin of each intent (by intent id); an intent not named needs none."""
        self.venue = BrokerVenue(
            reports, InstrumentIndex(fake.instruments), FACTS, lambda _: None,
            lambda intent_id: self.margins.get(intent_id, 0.0), protection=0.05,
        )  # fmt: skip

        async def deliver(report: VenueReport) -> None:
            self.delivered.append(report)

        async def no_wait(_seconds: float) -> None:
            return None

        self.session = BrokerSession(
            adapter, self.venue, deliver, clock,
            backoff=Backoff(0.01, 0.05), sleep=no_wait, rng=random.Random(7),
        )  # fmt: skip

    async def send(self, *orders: Order) -> list[VenueReport]:
        for order in orders:
            self.delivered += self.venue.place(order)
        await self.session.send_queued()
        await self.session.poll()
        return self.delivered


@pytest.fixture
async def link(angel_fake: AngelOneFake, market_clock: ReplayClock) -> _Link:
    adapter = make_orders(market_clock, angel_fake.settings(request_timeout_seconds=3.0))
    await adapter.login()
    return _Link(angel_fake, adapter, market_clock)


def _atm_call(fake: AngelOneFake) -> Instrument:
    spot = fake.model.spots["NIFTY"]
    calls = [i for i in fake.instruments if i.underlying == "NIFTY" and i.kind == "call"]
    nearest = min(i.expiry for i in calls if i.expiry is not None)
    return min(
        (i for i in calls if i.expiry == nearest), key=lambda i: abs((i.strike or 0.0) - spot)
    )


def _order(
    instrument: Instrument,
    limit: float,
    *,
    name: str = "1",
    purpose: str = "open",
    side: str = "BUY",
) -> Order:
    assert instrument.expiry is not None
    assert instrument.strike is not None
    contract = Contract(
        underlying=instrument.underlying, expiry=instrument.expiry,
        strike=instrument.strike, option_type="CE",
    )  # fmt: skip
    return Order(
        event_id=f"order-{name}", ts_event=0, ts_init=0,
        client_order_id=f"0b6f9a52-3c1e-5d7a-9f10-2a4b6c8d0e{name:0>2}", algo_id="ALGO-TEST-1",
        intent_id=f"intent-{name}", group_id="group", strategy="test", purpose=purpose,  # type: ignore[arg-type]
        contract=contract, side=side, quantity=instrument.lot_size,  # type: ignore[arg-type]
        order_type="limit", limit_price=limit,
    )  # fmt: skip


def _ask(fake: AngelOneFake, instrument: Instrument) -> float:
    ask = fake.quote(instrument.token).ask
    assert ask is not None
    return ask


async def test_an_order_at_the_ask_is_accepted_then_filled_under_the_brokers_trade_id(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    call = _atm_call(angel_fake)
    reports = await link.send(_order(call, _ask(angel_fake, call)))
    accepted = [r for r in reports if isinstance(r, OrderAccepted)]
    fills = [r for r in reports if isinstance(r, Fill)]
    assert len(accepted) == 1
    assert sum(f.quantity for f in fills) == call.lot_size
    assert all(f.fill_id.startswith("angel-one:5000") for f in fills)


@pytest.mark.parametrize("side", ["BUY", "SELL"])
async def test_an_opening_order_beyond_the_available_margin_is_refused_before_it_is_sent(
    link: _Link, angel_fake: AngelOneFake, side: str
) -> None:
    angel_fake.desk.available_margin = 50_000.0
    link.margins["intent-1"] = 50_000.01
    call = _atm_call(angel_fake)
    [rejected] = await link.send(_order(call, _ask(angel_fake, call), side=side))
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason == (
        "angel-one: margin: the intent needs Rs 50,000.01 (risk's margin), the broker has "
        "Rs 50,000.00 available"
    )
    assert not angel_fake.desk.orders


async def test_an_opening_order_within_the_available_margin_is_sent(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    angel_fake.desk.available_margin = 50_000.0
    link.margins["intent-1"] = 50_000.0
    call = _atm_call(angel_fake)
    reports = await link.send(_order(call, _ask(angel_fake, call)))
    assert isinstance(reports[0], OrderAccepted)


async def test_the_later_orders_of_an_intent_draw_on_the_margin_found_for_its_first(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    link.margins["intent-1"] = angel_fake.desk.available_margin - 1.0
    call = _atm_call(angel_fake)
    first = _order(call, _ask(angel_fake, call))
    second = msgspec.structs.replace(
        first, event_id="order-1b", client_order_id=first.client_order_id[:-2] + "1b"
    )
    reports = await link.send(first, second)
    assert [type(r) for r in reports[:2]] == [OrderAccepted, OrderAccepted]


async def test_an_opening_order_whose_intent_has_no_margin_from_risk_is_refused(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    call = _atm_call(angel_fake)
    order = msgspec.structs.replace(_order(call, _ask(angel_fake, call)), intent_id="unknown")
    link.venue.required_margin = lambda _: None
    [rejected] = await link.send(order)
    assert isinstance(rejected, OrderRejected)
    assert "risk computed no margin for the intent" in rejected.reason
    assert not angel_fake.desk.orders


async def test_a_close_beyond_the_margin_is_rejected_by_the_broker_with_its_text(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    angel_fake.desk.available_margin = 100.0
    call = _atm_call(angel_fake)
    [rejected] = await link.send(_order(call, _ask(angel_fake, call), purpose="close"))
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason.startswith("angel-one: RMS:Margin Exceeds")


async def test_a_limit_outside_the_circuit_is_rejected_with_the_brokers_text(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    call = _atm_call(angel_fake)
    [rejected] = await link.send(_order(call, round(_ask(angel_fake, call) * 3, 1)))
    assert isinstance(rejected, OrderRejected)
    assert "circuit limit" in rejected.reason


async def test_a_placement_that_times_out_after_the_broker_took_it_is_found_not_resent(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    angel_fake.time_out_next_placement = True
    call = _atm_call(angel_fake)
    order = _order(call, _ask(angel_fake, call))
    reports = await link.send(order)
    assert len(angel_fake.desk.orders) == 1
    assert isinstance(reports[0], OrderAccepted)
    assert link.venue.unavailable is None


async def test_an_opening_order_is_refused_while_the_broker_is_down(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    angel_fake.down = True
    call = _atm_call(angel_fake)
    [first] = await link.send(_order(call, _ask(angel_fake, call)))
    assert isinstance(first, OrderRejected)
    assert "broker unavailable, opening orders refused" in first.reason
    assert not angel_fake.desk.orders
    later = link.venue.place(_order(call, _ask(angel_fake, call), name="2"))
    assert isinstance(later[0], OrderRejected)
    assert "broker unavailable, opening orders refused" in later[0].reason


async def test_a_position_injected_at_the_broker_is_a_reconciliation_difference(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    call = _atm_call(angel_fake)
    angel_fake.inject_position(call.token, -call.lot_size, 100.0)
    adapter = link.session._broker
    held = await adapter.positions()
    [difference] = position_differences(held, [], link.venue.instruments.contract)
    assert (difference.broker, difference.log) == (-call.lot_size, 0)


async def test_an_opening_order_the_broker_never_got_is_refused_once_it_answers_again(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    angel_fake.lose_next_placement = True
    call = _atm_call(angel_fake)
    [rejected] = await link.send(_order(call, _ask(angel_fake, call)))
    assert isinstance(rejected, OrderRejected)
    assert "opening order not placed" in rejected.reason
    assert not angel_fake.desk.orders


async def test_a_close_the_broker_never_got_is_sent_again_once_it_answers(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    angel_fake.down = True
    call = _atm_call(angel_fake)
    await link.send(_order(call, _ask(angel_fake, call), purpose="close"))
    angel_fake.down = False
    reports = await link.send()
    assert len(angel_fake.desk.orders) == 1
    assert isinstance(reports[0], OrderAccepted)


async def test_a_fill_on_the_order_status_stream_is_reported_with_the_brokers_trade_id(
    link: _Link, angel_fake: AngelOneFake
) -> None:
    following = asyncio.create_task(link.session.follow_updates())
    try:
        await angel_fake.wait_for_order_listeners(1)
        call = _atm_call(angel_fake)
        link.venue.place(_order(call, _ask(angel_fake, call)))
        await link.session.send_queued()
        for _ in range(500):
            if any(isinstance(r, Fill) for r in link.delivered):
                break
            await asyncio.sleep(0.01)
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    fills = [r for r in link.delivered if isinstance(r, Fill)]
    assert fills
    assert all(f.fill_id.startswith("angel-one:") for f in fills)
    assert [type(r) for r in link.delivered].count(OrderAccepted) == 1


async def test_a_restarted_link_finds_the_orders_the_log_has_working_and_does_not_halt(
    market_clock: ReplayClock,
) -> None:
    spots = {"NIFTY": 26_000.0, "BANKNIFTY": 52_000.0}
    async with AngelOneFake(MARKET_DAY, market_clock, model=QuoteModel(spots=spots)) as fake:
        clock = ReplayClock(T0)
        log: list[Event] = []

        def trading_on(adapter: BrokerOrders) -> tuple[ExecutionEngine, BrokerVenue, BrokerSession]:
            reports = BrokerReports(adapter.name, FACTS, clock, brokerage_per_order=20.0)
            holder: list[ExecutionEngine] = []
            venue = BrokerVenue(
                reports, InstrumentIndex(fake.instruments), FACTS,
                lambda contract: holder[0].state.book.quote(contract),
                lambda intent_id: holder[0].state.margins.get(intent_id), protection=0.05,
            )  # fmt: skip
            holder.append(ExecutionEngine(config().execution(), venue, clock, FACTS))

            async def deliver(report: VenueReport) -> None:
                log.extend(holder[0].on_report(report))

            session = BrokerSession(adapter, venue, deliver, clock, backoff=Backoff(0.01, 0.05))
            return holder[0], venue, session

        earlier = make_orders(market_clock, fake.settings())
        await earlier.login()
        engine, venue, session = trading_on(earlier)
        call = venue.instruments.instrument(CALL)
        assert call is not None
        bid = fake.quote(call.token).bid
        assert bid is not None
        engine.on_chain(chain(T0))
        log.extend(engine.on_decision(approved(intent("BUY", LOT, limit_price=bid - 1.0))))
        await session.send_queued()
        await session.poll()
        assert engine.working_orders()

        adapter = make_orders(market_clock, fake.settings())
        restarted, venue, session = trading_on(adapter)
        for event in list(log):
            restarted.fold(event)
        commands: list[bytes] = []

        async def publish_command(command: bytes) -> None:
            commands.append(command)

        timing = LinkTiming(0.01, 0.01, 3_600.0, Backoff(0.01, 0.05))
        link = LiveLink(adapter, make_feed(market_clock, fake.settings()), venue, session, timing)
        await link.start(restarted, publish_command)
        await link.stop()
        assert commands == []
