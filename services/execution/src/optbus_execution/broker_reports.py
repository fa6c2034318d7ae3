"""What a real broker says about our orders, as the engine's ``exec.*`` events.

The broker speaks in its order book, its order-update stream and its trade book; the engine in
acceptances, rejections, cancellations and fills. This is the one translation between them,
pure (no I/O, time from the injected clock): the same broker update translated twice gives the
same event ids and, the second time, nothing at all, so a redelivered update, a poll that sees
an order again or a restart cannot fold a fill twice.

An update for an order optbus does not know (a fill, or an order, placed outside optbus or lost
from the log) is not dropped: it is kept in ``strangers`` for reconciliation to halt on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from optbus.clock import Clock
from optbus.events import (
    BrokerChargesReported,
    Charges,
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
)
from optbus.fees import charges_for
from optbus.ids import derived_event_id
from optbus.market import MarketFacts
from optbus_brokers.orders import BrokerCharges, BrokerOrder, BrokerTrade, OrderUpdate
from optbus_execution.venue import VenueReport

CHARGES_TOLERANCE = 1.0
"""Rupees the broker's charges for an order may differ from optbus's before it is flagged."""


@dataclass(slots=True)
class _Tracked:
    """One order of ours the broker holds, and what of it has already been reported."""

    order: Order
    broker_order_id: str | None = None
    accepted: bool = False
    final: bool = False
    fills: int = 0
    filled: int = 0
    charges: list[Charges] = field(default_factory=list)
    trade_ids: set[str] = field(default_factory=set)


class BrokerReports:
    """Broker updates in, ``exec.*`` reports out, each reported once.

    ``brokerage_per_order`` is what optbus charges itself for an order's first fill (None: the
    charges schedule's default), as the paper broker does; the broker's own figures, where it
    reports them, are compared with these separately.
    """

    def __init__(
        self, broker: str, facts: MarketFacts, clock: Clock, brokerage_per_order: float | None
    ) -> None:
        self._broker = broker
        self._facts = facts
        self._clock = clock
        self._brokerage = brokerage_per_order
        self._orders: dict[str, _Tracked] = {}
        self._by_broker_id: dict[str, str] = {}
        self.strangers: list[OrderUpdate] = []
        """Updates about orders optbus never placed, oldest first, for reconciliation."""

    def track(self, order: Order, *, accepted: bool = False) -> None:
        """Expect reports about ``order`` (sent now, or already working when restored)."""
        self._orders.setdefault(order.client_order_id, _Tracked(order, accepted=accepted))

    def order(self, client_order_id: str) -> Order | None:
        """Our order of that id, if it is one we sent."""
        tracked = self._orders.get(client_order_id)
        return None if tracked is None else tracked.order

    def broker_order_id(self, client_order_id: str) -> str | None:
        """The broker's id of our order, once the broker has given one."""
        tracked = self._orders.get(client_order_id)
        return None if tracked is None else tracked.broker_order_id

    def is_filled(self, client_order_id: str) -> bool:
        """Whether the broker's trades fill our order completely."""
        tracked = self._orders.get(client_order_id)
        return tracked is not None and tracked.filled >= tracked.order.quantity

    def charges_reported(self, client_order_id: str, broker: BrokerCharges) -> list[VenueReport]:
        """The broker's charges for a filled order beside optbus's for its fills, flagged when
        the totals differ by more than ``CHARGES_TOLERANCE`` rupees."""
        tracked = self._orders.get(client_order_id)
        if tracked is None:
            return []
        theirs = Charges(
            brokerage=broker.brokerage, stt=broker.stt,
            exchange_transaction=broker.exchange_charges, sebi=broker.sebi_fee,
            stamp_duty=broker.stamp_duty, gst=broker.gst,
        )  # fmt: skip
        ours = Charges(
            brokerage=sum(c.brokerage for c in tracked.charges),
            stt=sum(c.stt for c in tracked.charges),
            exchange_transaction=sum(c.exchange_transaction for c in tracked.charges),
            sebi=sum(c.sebi for c in tracked.charges),
            stamp_duty=sum(c.stamp_duty for c in tracked.charges),
            gst=sum(c.gst for c in tracked.charges),
        )
        difference = round(theirs.total - ours.total, 2)
        return [
            BrokerChargesReported(
                event_id=derived_event_id("exec.charges.reported", client_order_id),
                ts_event=self._clock.now_ns(),
                ts_init=self._clock.now_ns(),
                client_order_id=client_order_id,
                broker_order_id=broker.broker_order_id,
                venue=self._broker,
                broker=theirs,
                optbus=ours,
                difference=difference,
                flagged=abs(difference) > CHARGES_TOLERANCE,
            )
        ]

    def accepted(self, client_order_id: str, broker_order_id: str) -> list[VenueReport]:
        """The broker answered a placement with its order id."""
        tracked = self._orders.get(client_order_id)
        if tracked is None:
            return []
        self._by_broker_id[broker_order_id] = client_order_id
        tracked.broker_order_id = broker_order_id
        if tracked.accepted:
            return []
        tracked.accepted = True
        return [
            OrderAccepted(
                event_id=derived_event_id("exec.order.accepted", client_order_id),
                ts_event=self._clock.now_ns(),
                ts_init=self._clock.now_ns(),
                client_order_id=client_order_id,
                broker_order_id=broker_order_id,
            )
        ]

    def refused(self, client_order_id: str, reason: str) -> list[VenueReport]:
        """The broker refused a placement (or it never reached the broker): ``reason`` says why."""
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.final or tracked.accepted:
            return []
        tracked.final = True
        return [
            OrderRejected(
                event_id=derived_event_id("exec.order.rejected", client_order_id),
                ts_event=self._clock.now_ns(),
                ts_init=self._clock.now_ns(),
                client_order_id=client_order_id,
                reason=f"{self._broker}: {reason}",
            )
        ]

    def on_update(self, update: OrderUpdate) -> list[VenueReport]:
        """An order-book row or a trade from the broker, as the reports it newly causes."""
        if isinstance(update, BrokerTrade):
            return self._on_trade(update)
        return self._on_order(update)

    def _coid_of(self, update: OrderUpdate) -> str | None:
        """Our order the update is about; None (and kept for reconciliation) when it is no
        order of ours, or one already reported refused (the broker took it after all)."""
        tag = update.client_order_id if isinstance(update, BrokerOrder) else None
        coid = tag if tag is not None and tag in self._orders else None
        coid = coid or self._by_broker_id.get(update.broker_order_id)
        tracked = None if coid is None else self._orders[coid]
        refused_here = tracked is not None and tracked.final and not tracked.accepted
        ended = isinstance(update, BrokerOrder) and update.status in ("rejected", "cancelled")
        if tracked is None or (refused_here and not ended):
            self.strangers.append(update)
            return None
        return coid

    def _on_order(self, update: BrokerOrder) -> list[VenueReport]:
        coid = self._coid_of(update)
        if coid is None:
            return []
        tracked = self._orders[coid]
        if update.status == "rejected":
            reason = update.reason or "rejected without a reason"
            return [] if tracked.accepted else self.refused(coid, reason)
        reports = self.accepted(coid, update.broker_order_id)
        if update.status == "cancelled" and not tracked.final:
            tracked.final = True
            reports.append(
                OrderCancelled(
                    event_id=derived_event_id("exec.order.cancelled", coid),
                    ts_event=update.ts_update_ns,
                    ts_init=self._clock.now_ns(),
                    client_order_id=coid,
                    reason=f"{self._broker}: {update.reason or 'cancelled'}",
                )
            )
        return reports

    def _on_trade(self, trade: BrokerTrade) -> list[VenueReport]:
        coid = self._coid_of(trade)
        if coid is None:
            return []
        tracked = self._orders[coid]
        if trade.broker_trade_id in tracked.trade_ids:
            return []
        reports = self.accepted(coid, trade.broker_order_id)
        tracked.trade_ids.add(trade.broker_trade_id)
        order = tracked.order
        brokerage = self._brokerage if tracked.fills == 0 else 0.0
        tracked.fills += 1
        tracked.filled += trade.quantity
        fill_id = f"{self._broker}:{trade.broker_trade_id}"
        charges = charges_for(
            order.side,
            trade.price * trade.quantity,
            self._facts.local_date(trade.ts_exchange_ns),
            brokerage,
            kind=order.contract.kind,
        )
        tracked.charges.append(charges)
        reports.append(
            Fill(
                event_id=derived_event_id("exec.fill", fill_id),
                ts_event=trade.ts_exchange_ns,
                ts_init=self._clock.now_ns(),
                fill_id=fill_id,
                client_order_id=coid,
                contract=order.contract,
                side=order.side,
                quantity=trade.quantity,
                price=trade.price,
                bid=trade.price,
                ask=trade.price,
                charges=charges,
            )
        )
        return reports
