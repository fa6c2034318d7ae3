"""The engine's own record of its working orders, whichever venue holds them.

It is kept from the engine's events (an acceptance adds an order, fills count down what is
left, a cancellation or the last fill ends it), so it is the same live and after a restore,
and a venue is asked about the orders on record rather than keeping its own.
"""

from __future__ import annotations

from optbus.events import Fill
from optbus.quotes import ChainKey
from optbus_execution.orders import Ticket


class WorkingOrders:
    """Working orders by client order id, indexed by chain (a chain fills only its own)."""

    def __init__(self) -> None:
        self._working: dict[str, Ticket] = {}
        self._by_chain: dict[ChainKey, dict[str, Ticket]] = {}

    def tickets(self) -> list[Ticket]:
        """The working orders, oldest first."""
        return list(self._working.values())

    def of_chain(self, key: ChainKey) -> list[Ticket]:
        """The working orders on the contracts of one underlying and expiry, oldest first."""
        return list(self._by_chain.get(key, {}).values())

    def close_quantity(self, position_id: str) -> int:
        """Units still working in close orders aimed at ``position_id``."""
        return sum(
            t.remaining for t in self._working.values() if t.origin.position_id == position_id
        )

    def track(self, ticket: Ticket) -> None:
        """Hold ``ticket`` as a working order."""
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
        """Drop a working order (cancelled or done)."""
        ticket = self._working.pop(client_order_id, None)
        if ticket is not None:
            contract = ticket.order.contract
            chain = self._by_chain.get((contract.underlying, contract.expiry), {})
            chain.pop(client_order_id, None)
