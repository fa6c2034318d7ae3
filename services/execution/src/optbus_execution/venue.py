"""The venue port: where the engine sends orders and what comes back from there.

The engine decides what to order and keeps the state; a venue only takes orders and reports
what happened to them. The paper broker (``optbus_execution.paper``) is one adapter; a real
broker's API is another. Every report is an event the engine folds into its state exactly as
it folds the same event read back from history, so a restored engine is the live one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from optbus.events import (
    BrokerChargesReported,
    ChainGreeks,
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
)
from optbus_execution.book import MarketBook
from optbus_execution.orders import Ticket

VenueReport = OrderAccepted | OrderRejected | OrderCancelled | Fill | BrokerChargesReported
"""What a venue reports: an order taken or refused, an order cancelled, a fill, and (a real
broker, for a filled order) the charges it reports."""


class Venue(Protocol):
    """A place to trade. Reports are stamped on the engine's clock (an adapter is built with it).

    A venue that answers at once returns its reports from the call; one that answers later (a
    real broker's order feed) returns what it knows now and hands the rest to
    ``ExecutionEngine.on_report`` as it arrives.
    """

    def priced(self, order: Order) -> Order:
        """``order`` as the venue sends it: a venue that sends no market order (a real broker)
        gives a market order the limit it goes out at, which its ``exec.order`` records."""
        ...

    def place(self, order: Order) -> list[VenueReport]:
        """Send ``order``; its ``client_order_id`` makes sending it again harmless."""
        ...

    def cancel(self, order: Order, reason: str, at_ns: int) -> list[VenueReport]:
        """Ask for a working order to be cancelled, at market time ``at_ns``."""
        ...

    def on_market(
        self, chain: ChainGreeks, book: MarketBook, working: Sequence[Ticket]
    ) -> list[VenueReport]:
        """What the venue reports once the market has moved to ``chain``.

        ``working`` is the engine's record of its orders working on the chain's contracts,
        oldest first; ``book`` already holds ``chain``.
        """
        ...
