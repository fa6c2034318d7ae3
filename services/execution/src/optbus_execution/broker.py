"""The paper broker: working orders that fill against the quotes of later chains.

An order can first fill on a quote whose time is at least its order time plus the configured
latency. Each quote fills working orders in time priority; orders on the same contract and
side share the displayed size, so two slices never both take the same lots. What an order
cannot fill stays working for the next quote (a partial fill). See docs/execution.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from optbus.clock import Clock
from optbus.events import ChainGreeks, Fill, Order, OrderAccepted, OrderCancelled, Side
from optbus.fees import charges_for
from optbus.ids import derived_event_id
from optbus.market import MarketFacts
from optbus.quotes import ChainKey, OptionQuote
from optbus_execution.book import MarketBook
from optbus_execution.config import PaperBrokerConfig
from optbus_execution.orders import OrderOrigin, Ticket, broker_order_id, trade_date
from optbus_execution.slippage import fill_price, fillable_quantity, limit_allows, touch_price


@dataclass(frozen=True, slots=True)
class Execution:
    """A fill and the working order it came from (as it was once the fill was counted)."""

    fill: Fill
    ticket: Ticket


class PaperBroker:
    """Working orders, filled from the market book as market time passes their latency."""

    def __init__(self, config: PaperBrokerConfig, facts: MarketFacts, clock: Clock) -> None:
        self._config = config
        self._facts = facts
        self._clock = clock
        self._working: dict[str, Ticket] = {}
        self._by_chain: dict[ChainKey, dict[str, Ticket]] = {}

    def working(self) -> list[Ticket]:
        """The working orders, oldest first."""
        return list(self._working.values())

    def ticket(self, client_order_id: str) -> Ticket | None:
        """The working order with this client order id, if it is still working."""
        return self._working.get(client_order_id)

    def working_close_quantity(self, position_id: str) -> int:
        """Units still working in close orders aimed at ``position_id``."""
        return sum(
            t.remaining for t in self._working.values() if t.origin.position_id == position_id
        )

    def accept(
        self, order: Order, origin: OrderOrigin, lot_size: int, tick: float
    ) -> OrderAccepted:
        """Take ``order`` as working; it may fill from its order time plus latency."""
        self.track(Ticket(order, origin, lot_size, tick, remaining=order.quantity))
        coid = order.client_order_id
        return OrderAccepted(
            event_id=derived_event_id("exec.order.accepted", coid),
            ts_event=order.ts_event,
            ts_init=self._clock.now_ns(),
            client_order_id=coid,
            broker_order_id=broker_order_id(coid),
        )

    def track(self, ticket: Ticket) -> None:
        """Hold ``ticket`` as a working order (also used to restore state from events)."""
        coid = ticket.order.client_order_id
        contract = ticket.order.contract
        self._working[coid] = ticket
        self._by_chain.setdefault((contract.underlying, contract.expiry), {})[coid] = ticket

    def count_fill(self, fill: Fill) -> Ticket | None:
        """Take ``fill`` off its working order (dropping the order when done); returns it."""
        ticket = self._working.get(fill.client_order_id)
        if ticket is None:
            return None
        ticket.remaining -= fill.quantity
        ticket.fills += 1
        if ticket.remaining <= 0:
            self.forget(fill.client_order_id)
        return ticket

    def forget(self, client_order_id: str) -> None:
        """Drop a working order (cancelled, rejected or done)."""
        ticket = self._working.pop(client_order_id, None)
        if ticket is not None:
            contract = ticket.order.contract
            chain = self._by_chain.get((contract.underlying, contract.expiry), {})
            chain.pop(client_order_id, None)

    def cancel_all(
        self, reason: str, at_ns: int, keep: Callable[[Ticket], bool] | None = None
    ) -> list[OrderCancelled]:
        """Cancel every working order (but those ``keep`` spares), oldest first."""
        return [
            self._cancel(ticket, reason, at_ns)
            for ticket in list(self._working.values())
            if keep is None or not keep(ticket)
        ]

    def on_chain(self, chain: ChainGreeks, book: MarketBook) -> list[Execution | OrderCancelled]:
        """Fill what the new quotes of ``chain`` can fill; cancel what outlived its time."""
        key = (chain.snapshot.underlying, chain.snapshot.expiry)
        tickets = self._by_chain.get(key)
        if not tickets:
            return []
        now = chain.ts_event
        taken: dict[tuple[float, str, Side], int] = {}
        results: list[Execution | OrderCancelled] = []
        for ticket in list(tickets.values()):
            if now < ticket.order.ts_event + self._config.latency_ns:
                continue
            execution = self._try_fill(ticket, book, now, taken)
            if execution is not None:
                results.append(execution)
            elif self._expired(ticket, now):
                results.append(self._cancel(ticket, "order time to live ran out", now))
        return results

    def _try_fill(
        self, ticket: Ticket, book: MarketBook, now: int, taken: dict[tuple[float, str, Side], int]
    ) -> Execution | None:
        order = ticket.order
        quote = book.quote(order.contract)
        if quote is None or quote.ts != now:
            return None
        displayed = quote.ask_size if order.side == "BUY" else quote.bid_size
        touch = touch_price(order.side, quote.bid, quote.ask)
        if touch <= 0.0 or not limit_allows(order.side, touch, order.limit_price):
            return None
        slot = (order.contract.strike, order.contract.option_type, order.side)
        available = displayed - taken.get(slot, 0)
        quantity = fillable_quantity(ticket.remaining, available, ticket.lot_size)
        if quantity <= 0:
            return None
        taken[slot] = taken.get(slot, 0) + quantity
        fill = self._fill(ticket, quote, quantity, displayed)
        self.count_fill(fill)
        return Execution(fill, ticket)

    def _fill(self, ticket: Ticket, quote: OptionQuote, quantity: int, displayed: int) -> Fill:
        order = ticket.order
        price = fill_price(
            order.side, quote.bid, quote.ask, quantity, displayed, ticket.tick_size,
            self._config.slippage, order.limit_price,
        )  # fmt: skip
        brokerage = self._config.brokerage_per_order if ticket.fills == 0 else 0.0
        charges = charges_for(
            order.side, price * quantity, trade_date(quote.ts, self._facts), brokerage,
            self._config.charges_schedule,
        )  # fmt: skip
        fill_id = derived_event_id("fill", order.client_order_id, ticket.fills)
        return Fill(
            event_id=derived_event_id("exec.fill", fill_id),
            ts_event=quote.ts,
            ts_init=self._clock.now_ns(),
            fill_id=fill_id,
            client_order_id=order.client_order_id,
            contract=order.contract,
            side=order.side,
            quantity=quantity,
            price=price,
            bid=quote.bid,
            ask=quote.ask,
            charges=charges,
        )

    def _expired(self, ticket: Ticket, now: int) -> bool:
        ttl = self._config.order_ttl_ns
        return ttl is not None and now > ticket.order.ts_event + ttl

    def _cancel(self, ticket: Ticket, reason: str, at_ns: int) -> OrderCancelled:
        coid = ticket.order.client_order_id
        self.forget(coid)
        return OrderCancelled(
            event_id=derived_event_id("exec.order.cancelled", coid),
            ts_event=at_ns,
            ts_init=self._clock.now_ns(),
            client_order_id=coid,
            reason=reason,
        )
