"""A real broker behind the venue port: orders go out from a small task, reports come back later.

``BrokerVenue`` is the port's synchronous side, called by the engine: it turns an order into the
broker's request (a market order into a protected limit inside the price band) and queues it,
refusing at once what cannot be sent (no instrument at the broker, no touch to protect against,
an opening order while the broker is down). ``BrokerSession`` is the I/O: it sends the queue at
the broker's order rate, follows the order-update stream (or polls the order book and trades
with backoff) and hands every report to ``deliver``, which folds it into the engine and
publishes it, so live reports are folded exactly as a restore folds the same events.

A placement whose fate is unknown (the broker timed out) is looked up in the order book by its
client order id, never simply sent again: found, it is the broker's answer; not found, an
opening order is refused and a close is sent again after a backoff (a close must happen).
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import msgspec
import structlog
from prometheus_client import Counter, Gauge

from optbus.clock import Clock
from optbus.events import FUTURES_STRIKE, ChainGreeks, Contract, Fill, OptionType, Order
from optbus.market import MarketFacts
from optbus.quotes import OptionQuote
from optbus_brokers.backoff import Backoff
from optbus_brokers.feed import Instrument, InstrumentKind
from optbus_brokers.orders import (
    BrokerOrder,
    BrokerOrders,
    BrokerUnavailable,
    OrderRefused,
    OrderRequest,
    OrderUpdate,
)
from optbus_execution.book import MarketBook
from optbus_execution.broker_reports import BrokerReports
from optbus_execution.orders import Ticket
from optbus_execution.protection import Unprotectable, protected_limit
from optbus_execution.venue import VenueReport

_log = structlog.get_logger()
_NS_PER_SECOND = 1_000_000_000

BROKER_UP = Gauge(
    "optbus_execution_broker_up", "1 while the broker answers, 0 while not", ["venue"]
)
CLOSE_RETRIES = Counter(
    "optbus_execution_close_retries_total",
    "closing orders sent again because the broker was down or timed out",
    ["venue"],
)

_INSTRUMENT_KIND: dict[OptionType, InstrumentKind] = {"CE": "call", "PE": "put", "FUT": "future"}
_OPTION_TYPE: dict[InstrumentKind, OptionType] = {v: k for k, v in _INSTRUMENT_KIND.items()}

_InstrumentKey = tuple[str, date | None, float | None, InstrumentKind]


class InstrumentIndex:
    """The broker's option and index-future instruments by optbus contract.

    A broker lists a future without a strike; optbus's future carries strike 0
    (``FUTURES_STRIKE``), so futures are keyed without one.
    """

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._by_contract: dict[_InstrumentKey, Instrument] = {
            _key(i.underlying, i.expiry, i.strike, i.kind): i
            for i in instruments
            if i.kind in _OPTION_TYPE
        }
        self._contracts = {
            i.token: Contract(
                underlying=i.underlying,
                expiry=i.expiry,
                strike=FUTURES_STRIKE if i.strike is None else i.strike,
                option_type=_OPTION_TYPE[i.kind],
            )
            for i in self._by_contract.values()
            if i.expiry is not None and (i.strike is not None or i.kind == "future")
        }

    def contract(self, token: str) -> Contract | None:
        """The optbus contract of the broker's option or future ``token``, if it is one."""
        return self._contracts.get(token)

    def instrument(self, contract: Contract) -> Instrument | None:
        """The broker's instrument of ``contract``, if the broker lists it."""
        kind = _INSTRUMENT_KIND[contract.option_type]
        key = _key(contract.underlying, contract.expiry, contract.strike, kind)
        return self._by_contract.get(key)


def _key(
    underlying: str, expiry: date | None, strike: float | None, kind: InstrumentKind
) -> _InstrumentKey:
    return (underlying, expiry, None if kind == "future" else strike, kind)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One request waiting for the broker: a placement or a cancellation of ``order``."""

    action: Literal["place", "cancel"]
    order: Order
    request: OrderRequest | None = None
    attempt: int = 0


class BrokerVenue:
    """The venue port over a broker: answers what it can at once, queues the rest.

    ``quotes`` gives the engine's latest quote of a contract (to protect market orders);
    ``margins`` the margin risk computed for an intent (by intent id; the broker must have that
    much available before the intent's opening orders go); ``protection`` is how far past the
    touch (a fraction of it) a market order may fill.
    """

    def __init__(
        self,
        reports: BrokerReports,
        instruments: InstrumentIndex,
        facts: MarketFacts,
        quotes: Callable[[Contract], OptionQuote | None],
        margins: Callable[[str], float | None],
        protection: float,
    ) -> None:
        self.reports = reports
        self.outbox: deque[Outgoing] = deque()
        self.unresolved: list[Outgoing] = []
        """Placements the broker did not answer whose order book could not be read yet."""
        self.unavailable: str | None = None
        """Why the broker is down (None while it answers): opening orders are refused then."""
        self.instruments = instruments
        """The broker's instruments (replaced once its master is loaded)."""
        self._facts = facts
        self._quotes = quotes
        self._protection = protection
        self.required_margin = margins
        """The margin risk computed for an intent, by intent id (None: risk gave no figure)."""

    def priced(self, order: Order) -> Order:
        """``order`` as it goes out: a market order carries the protected limit it is sent at,
        so its ``exec.order`` records that limit. Unchanged when it has a limit already, or
        cannot be protected (``place`` then refuses it, saying why)."""
        instrument = self.instruments.instrument(order.contract)
        if order.limit_price is not None or instrument is None:
            return order
        try:
            limit = self._limit_price(order, instrument)
        except Unprotectable:
            return order
        return msgspec.structs.replace(order, limit_price=limit)

    def place(self, order: Order) -> list[VenueReport]:
        """Queue ``order`` for the broker, or refuse it now saying why it cannot go."""
        self.reports.track(order)
        coid = order.client_order_id
        if self.unavailable is not None and order.purpose == "open":
            return self.reports.refused(
                coid, f"broker unavailable, opening orders refused: {self.unavailable}"
            )
        instrument = self.instruments.instrument(order.contract)
        if instrument is None:
            return self.reports.refused(coid, "the broker lists no such instrument")
        try:
            limit = self._limit_price(order, instrument)
        except Unprotectable as exc:
            return self.reports.refused(coid, f"market order cannot be protected: {exc}")
        request = OrderRequest(
            client_order_id=coid,
            instrument=instrument,
            side="buy" if order.side == "BUY" else "sell",
            quantity=order.quantity,
            limit_price=limit,
            algo_id=order.algo_id,
        )
        self.outbox.append(Outgoing("place", order, request))
        return []

    def cancel(self, order: Order, reason: str, at_ns: int) -> list[VenueReport]:
        """Queue a cancellation; the broker's cancelled row is the report."""
        self.outbox.append(Outgoing("cancel", order))
        return []

    def on_market(
        self, chain: ChainGreeks, book: MarketBook, working: Sequence[Ticket]
    ) -> list[VenueReport]:
        """Nothing: a real broker fills on its own and says so on its stream or book."""
        return []

    def _limit_price(self, order: Order, instrument: Instrument) -> float:
        if order.limit_price is not None:
            return order.limit_price
        quote = self._quotes(order.contract)
        if quote is None:
            raise Unprotectable("no quote of the contract")
        band = self._facts.price_band(self._facts.local_date(order.ts_event))
        return protected_limit(order.side, quote, band, instrument.tick_size, self._protection)


Deliver = Callable[[VenueReport], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class BrokerSession:
    """The I/O of a broker venue: sends its queue at the broker's rate, follows its reports.

    ``sleep`` and ``rng`` are injected (a test's sleep returns at once); time is ``clock``'s.
    """

    def __init__(
        self,
        broker: BrokerOrders,
        venue: BrokerVenue,
        deliver: Deliver,
        clock: Clock,
        *,
        backoff: Backoff,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._broker = broker
        self._venue = venue
        self._deliver = deliver
        self._clock = clock
        self._backoff = backoff
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._interval_ns = int(_NS_PER_SECOND / broker.orders_per_second)
        self._last_sent_ns: int | None = None
        self._margin_checked: set[str] = set()
        BROKER_UP.labels(broker.name).set(1)

    async def send_queued(self) -> None:
        """Look up the placements of unknown fate, then send everything queued, oldest first,
        no faster than the broker's order rate."""
        unresolved, self._venue.unresolved = self._venue.unresolved, []
        for item in unresolved:
            await self._resolve_unknown(item)
        while self._venue.outbox:
            item = self._venue.outbox.popleft()
            await self._pace()
            if item.action == "place":
                await self._place(item)
            else:
                await self._cancel(item)

    async def follow_updates(self) -> None:
        """Deliver the order-update stream's reports until the stream drops (then raises
        ``BrokerUnavailable``); a broker without a stream is polled instead (``poll``)."""
        connection = await self._broker.connect_order_updates()
        try:
            async for update in connection.items():
                self._up()
                await self._report(self._venue.reports.on_update(update))
                if isinstance(update, BrokerOrder) and update.filled_quantity > 0:
                    await self._read_trades()
        finally:
            await connection.close()

    async def _read_trades(self) -> None:
        """The trade book, for the trade ids of fills an order-status row only counts (a trade
        already reported is not reported again; an unreadable book waits for the next poll)."""
        try:
            trades = await self._broker.trades()
        except BrokerUnavailable as exc:
            self._down(f"trade book unreadable: {exc}")
            return
        for trade in trades:
            await self._report(self._venue.reports.on_update(trade))

    async def poll(self) -> None:
        """Read the order book and the trades once and deliver what is new."""
        try:
            rows = await self._broker.order_book()
            trades = await self._broker.trades()
        except BrokerUnavailable as exc:
            self._down(f"order book unreadable: {exc}")
            return
        self._up()
        updates: list[OrderUpdate] = [*rows, *trades]
        for update in updates:
            await self._report(self._venue.reports.on_update(update))

    async def _place(self, item: Outgoing) -> None:
        assert item.request is not None
        coid = item.order.client_order_id
        shortfall = await self._margin_shortfall(item.order)
        if shortfall is not None:
            await self._report(self._venue.reports.refused(coid, shortfall))
            return
        try:
            broker_order_id = await self._broker.place(item.request)
        except OrderRefused as refused:
            self._up()
            await self._report(self._venue.reports.refused(coid, refused.reason))
        except BrokerUnavailable as exc:
            self._down(f"placement unanswered: {exc}")
            await self._resolve_unknown(item)
        else:
            self._up()
            await self._report(self._venue.reports.accepted(coid, broker_order_id))

    async def _margin_shortfall(self, order: Order) -> str | None:
        """Why the broker's available margin (its RMS/limits call) cannot carry the opening
        intent of ``order``, or None. The figure needed is risk's margin for the intent (a
        long's premium, a short's scenario margin), checked once, before the intent's first
        order goes: its later orders (legs, slices) draw on the margin found then. An intent
        risk gave no figure for is refused (fail closed). Closes are never held back here."""
        intent_id = order.intent_id
        if order.purpose != "open" or intent_id in self._margin_checked:
            return None
        required = self._venue.required_margin(intent_id)
        if required is None:
            return "margin: risk computed no margin for the intent, opening order not placed"
        try:
            available = await self._broker.available_margin()
        except BrokerUnavailable as exc:
            self._down(f"margin unreadable: {exc}")
            return f"broker unavailable, opening orders refused: {self._venue.unavailable}"
        if required > available:
            return (
                f"margin: the intent needs Rs {required:,.2f} (risk's margin), the broker has "
                f"Rs {available:,.2f} available"
            )
        self._margin_checked.add(intent_id)
        return None

    async def _resolve_unknown(self, item: Outgoing) -> None:
        """A placement the broker did not answer: find it by client order id before anything.

        Found, the broker's row is the answer. Not in a book that could be read: an opening
        order is refused, a close is sent again after a backoff (a close must happen). A book
        that cannot be read leaves the fate unknown: the lookup (never the order) is tried again
        on the next round."""
        coid = item.order.client_order_id
        try:
            rows = await self._broker.order_book()
        except BrokerUnavailable:
            self._venue.unresolved.append(item)
            return
        found = next((row for row in rows if row.client_order_id == coid), None)
        if found is not None:
            await self._report(self._venue.reports.on_update(found))
        elif item.order.purpose == "open":
            reason = f"broker unavailable, opening order not placed: {self._venue.unavailable}"
            await self._report(self._venue.reports.refused(coid, reason))
        else:
            CLOSE_RETRIES.labels(self._broker.name).inc()
            await self._sleep(self._backoff.delay(item.attempt, self._rng))
            self._venue.outbox.append(Outgoing("place", item.order, item.request, item.attempt + 1))

    async def _cancel(self, item: Outgoing) -> None:
        broker_order_id = self._venue.reports.broker_order_id(item.order.client_order_id)
        if broker_order_id is None:
            return
        try:
            await self._broker.cancel(broker_order_id)
        except OrderRefused as refused:
            _log.info("cancel refused", broker_order_id=broker_order_id, reason=refused.reason)
        except BrokerUnavailable as exc:
            self._down(f"cancel unanswered: {exc}")
            self._venue.outbox.append(Outgoing("cancel", item.order, attempt=item.attempt + 1))
            await self._sleep(self._backoff.delay(item.attempt, self._rng))

    async def _pace(self) -> None:
        now = self._clock.now_ns()
        if self._last_sent_ns is not None:
            wait_ns = self._last_sent_ns + self._interval_ns - now
            if wait_ns > 0:
                await self._sleep(wait_ns / _NS_PER_SECOND)
                now = self._last_sent_ns + self._interval_ns
        self._last_sent_ns = now

    async def _report(self, reports: Iterable[VenueReport]) -> None:
        for report in reports:
            await self._deliver(report)
            if isinstance(report, Fill) and self._venue.reports.is_filled(report.client_order_id):
                await self._report_charges(report.client_order_id)

    async def _report_charges(self, client_order_id: str) -> None:
        """The broker's charges of a filled order, where it reports them (a broker that cannot
        say now is not asked again: optbus's own figures stand)."""
        broker_order_id = self._venue.reports.broker_order_id(client_order_id)
        if broker_order_id is None:
            return
        try:
            charges = await self._broker.charges(broker_order_id)
        except BrokerUnavailable as exc:
            _log.warning("broker charges unreadable", order=broker_order_id, error=str(exc))
            return
        if charges is not None:
            for report in self._venue.reports.charges_reported(client_order_id, charges):
                await self._deliver(report)

    def _up(self) -> None:
        self._venue.unavailable = None
        BROKER_UP.labels(self._broker.name).set(1)

    def _down(self, reason: str) -> None:
        if self._venue.unavailable is None:
            _log.warning("broker unavailable", venue=self._broker.name, reason=reason)
        self._venue.unavailable = reason
        BROKER_UP.labels(self._broker.name).set(0)
