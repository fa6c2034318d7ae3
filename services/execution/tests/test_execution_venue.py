"""The venue port: a venue that answers later reports through the engine, as a real broker would."""

from __future__ import annotations

from collections.abc import Sequence

from execution_fixtures import FACTS, LOT, T0, approved, chain, config, intent, of_type

from optbus.clock import ReplayClock
from optbus.events import ChainGreeks, Charges, Fill, Order, OrderAccepted
from optbus_execution.book import MarketBook
from optbus_execution.engine import ExecutionEngine
from optbus_execution.orders import Ticket
from optbus_execution.venue import VenueReport


class _LaterVenue:
    """A venue that answers nothing at once (its reports come later, over its order feed)."""

    def __init__(self) -> None:
        self.placed: list[Order] = []

    def priced(self, order: Order) -> Order:
        return order

    def place(self, order: Order) -> list[VenueReport]:
        self.placed.append(order)
        return []

    def cancel(self, order: Order, reason: str, at_ns: int) -> list[VenueReport]:
        return []

    def on_market(
        self, chain: ChainGreeks, book: MarketBook, working: Sequence[Ticket]
    ) -> list[VenueReport]:
        return []


_NO_CHARGES = Charges(
    brokerage=0.0, stt=0.0, exchange_transaction=0.0, sebi=0.0, stamp_duty=0.0, gst=0.0
)


def _engine(venue: _LaterVenue) -> ExecutionEngine:
    paper = config()
    return ExecutionEngine(paper.execution(), venue, ReplayClock(T0), FACTS)


def _accepted(order: Order) -> OrderAccepted:
    coid = order.client_order_id
    return OrderAccepted(
        event_id=f"ack-{coid}", ts_event=T0, ts_init=T0, client_order_id=coid,
        broker_order_id=f"venue-{coid}",
    )  # fmt: skip


def test_an_order_the_venue_has_not_answered_is_not_working() -> None:
    venue = _LaterVenue()
    e = _engine(venue)
    e.on_chain(chain(T0))

    events = e.on_decision(approved(intent("BUY", LOT)))

    assert (of_type(events, Order), e.working_orders()) == (venue.placed, [])


def test_an_acceptance_reported_later_starts_the_order_working() -> None:
    venue = _LaterVenue()
    e = _engine(venue)
    e.on_chain(chain(T0))
    e.on_decision(approved(intent("BUY", LOT)))

    e.on_report(_accepted(venue.placed[0]))

    assert e.working_orders() == venue.placed


def test_a_fill_reported_later_opens_a_position() -> None:
    venue = _LaterVenue()
    e = _engine(venue)
    e.on_chain(chain(T0))
    e.on_decision(approved(intent("BUY", LOT)))
    order = venue.placed[0]
    e.on_report(_accepted(order))
    fill = Fill(
        event_id="f", ts_event=T0, ts_init=T0, fill_id="fill-1",
        client_order_id=order.client_order_id, contract=order.contract, side="BUY",
        quantity=LOT, price=120.5, bid=120.0, ask=120.5, charges=_NO_CHARGES,
    )  # fmt: skip

    events = e.on_report(fill)

    assert events[0] == fill
    assert [p.quantity for p in e.positions()] == [LOT]
