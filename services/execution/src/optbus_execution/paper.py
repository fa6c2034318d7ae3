"""The paper broker, the first adapter of the venue port: orders fill against later quotes.

An order can first fill on a quote whose time is at least its order time plus the configured
latency. Each quote fills working orders in time priority; orders on the same contract and
side share the displayed size, so two slices never both take the same lots. What an order
cannot fill stays working for the next quote (a partial fill). See docs/execution.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from optbus.clock import Clock
from optbus.events import ChainGreeks, Fill, Order, OrderAccepted, OrderCancelled, Side
from optbus.fees import charges_for
from optbus.ids import derived_event_id
from optbus.market import MarketFacts
from optbus.quotes import OptionQuote
from optbus_execution.book import MarketBook
from optbus_execution.config import PaperBrokerConfig
from optbus_execution.orders import Ticket, broker_order_id
from optbus_execution.slippage import fill_price, fillable_quantity, limit_allows, touch_price
from optbus_execution.venue import VenueReport


class PaperBroker:
    """The paper venue: fills the engine's working orders from the market book.

    It keeps no state of its own: the engine's record of what is working (folded from the same
    events live and on restore) is what it fills, so a restored engine fills the same.
    """

    def __init__(self, config: PaperBrokerConfig, facts: MarketFacts, clock: Clock) -> None:
        self._config = config
        self._facts = facts
        self._clock = clock

    def priced(self, order: Order) -> Order:
        """``order`` unchanged: the paper broker fills a market order at the touch."""
        return order

    def place(self, order: Order) -> list[VenueReport]:
        """Take ``order`` as working at once; it may fill from its order time plus latency."""
        coid = order.client_order_id
        accepted = OrderAccepted(
            event_id=derived_event_id("exec.order.accepted", coid),
            ts_event=order.ts_event,
            ts_init=self._clock.now_ns(),
            client_order_id=coid,
            broker_order_id=broker_order_id(coid),
        )
        return [accepted]

    def cancel(self, order: Order, reason: str, at_ns: int) -> list[VenueReport]:
        """Cancel a working order at once."""
        coid = order.client_order_id
        cancelled = OrderCancelled(
            event_id=derived_event_id("exec.order.cancelled", coid),
            ts_event=at_ns,
            ts_init=self._clock.now_ns(),
            client_order_id=coid,
            reason=reason,
        )
        return [cancelled]

    def on_market(
        self, chain: ChainGreeks, book: MarketBook, working: Sequence[Ticket]
    ) -> list[VenueReport]:
        """Fill what the new quotes of ``chain`` can fill; cancel what outlived its time."""
        now = chain.ts_event
        taken: dict[tuple[float, str, Side], int] = {}
        reports: list[VenueReport] = []
        for ticket in working:
            if now < ticket.order.ts_event + self._config.latency_ns:
                continue
            fill = self._try_fill(ticket, book, now, taken)
            if fill is not None:
                reports.append(fill)
            elif self._expired(ticket, now):
                reports += self.cancel(ticket.order, "order time to live ran out", now)
        return reports

    def _try_fill(
        self, ticket: Ticket, book: MarketBook, now: int, taken: dict[tuple[float, str, Side], int]
    ) -> Fill | None:
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
        return self._fill(ticket, quote, quantity, displayed)

    def _fill(self, ticket: Ticket, quote: OptionQuote, quantity: int, displayed: int) -> Fill:
        order = ticket.order
        price = fill_price(
            order.side, quote.bid, quote.ask, quantity, displayed, ticket.tick_size,
            self._config.slippage, order.limit_price,
        )  # fmt: skip
        brokerage = self._config.brokerage_per_order if ticket.fills == 0 else 0.0
        charges = charges_for(
            order.side, price * quantity, self._facts.local_date(quote.ts), brokerage,
            self._config.charges_schedule, order.contract.kind,
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
