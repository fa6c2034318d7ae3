"""The execution engine: market book, paper broker and positions behind handler-shaped methods.

Each method takes one input event and returns the events it causes, in order; it never
publishes. Orders are timed on the market clock (the latest source time seen, or the
decision's own time when that is later), so a replay makes the same orders, fills and trades.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from optbus.clock import Clock
from optbus.events import (
    ChainGreeks,
    Event,
    Fill,
    KillSwitchEngaged,
    KillSwitchReleased,
    Leg,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderIntent,
    OrderRejected,
    Position,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
    VolatilityIndexTick,
)
from optbus.ids import derived_event_id
from optbus.market import ContractSpec, MarketFacts, MarketFactsError, load_market_facts
from optbus.slicing import freeze_slices
from optbus_execution.book import MarketBook
from optbus_execution.broker import PaperBroker
from optbus_execution.config import PaperBrokerConfig
from optbus_execution.orders import (
    OrderOrigin,
    Ticket,
    make_order,
    rejection_reason,
    trade_date,
)
from optbus_execution.positions import PositionBook, flatten_intents

FLATTEN_REASON = "kill switch flatten"


def _is_flatten(ticket: Ticket) -> bool:
    return ticket.origin.reason.startswith(FLATTEN_REASON)


class ExecutionEngine:
    """The pure domain of the execution service: events in, events out."""

    def __init__(
        self,
        config: PaperBrokerConfig,
        clock: Clock,
        facts: MarketFacts | None = None,
        halted: bool = False,
    ) -> None:
        self._config = config
        self._clock = clock
        self._facts = facts if facts is not None else load_market_facts()
        self._halted = halted
        self.book = MarketBook(config.max_quote_age_ns, config.vix_index)
        self.broker = PaperBroker(config, self._facts, clock)
        self.position_book = PositionBook(clock)
        self._intents: dict[str, OrderIntent] = {}
        self._ordered: set[str] = set()
        self._pending: dict[str, Order] = {}

    @property
    def halted(self) -> bool:
        """Whether the kill switch is engaged (no opening order is accepted)."""
        return self._halted

    def positions(self) -> list[Position]:
        """The open positions, oldest first."""
        return self.position_book.positions()

    def working_orders(self) -> list[Order]:
        """The orders still working at the broker, oldest first."""
        return [ticket.order for ticket in self.broker.working()]

    def on_chain(self, chain: ChainGreeks) -> list[Event]:
        """Take a chain's quotes; the fills, cancellations and position events they cause."""
        self.book.on_chain(chain)
        events: list[Event] = []
        for result in self.broker.on_chain(chain, self.book):
            if isinstance(result, OrderCancelled):
                events.append(result)
                continue
            fill = result.fill
            context = self.book.context(fill.contract, fill.ts_event)
            events.append(fill)
            events += self.position_book.apply_fill(fill, result.ticket.origin, context)
        return events

    def on_vix(self, tick: VolatilityIndexTick) -> list[Event]:
        """Take a volatility index tick (recorded in later market contexts); causes nothing."""
        self.book.on_vix(tick)
        return []

    def on_decision(self, decision: RiskDecision) -> list[Event]:
        """Orders for an approved intent, each followed by its acceptance or rejection.

        A rejected intent causes nothing; an intent already ordered (a redelivery) neither.
        """
        intent = decision.intent
        if not decision.approved or intent.intent_id in self._ordered:
            return []
        return self._submit(intent, max(decision.ts_event, self.book.market_time_ns))

    def on_kill_switch(self, engaged: bool, flatten: bool = False, reason: str = "") -> list[Event]:
        """Engage or release the kill switch; engaging again changes nothing that is in hand.

        Engaging cancels every working order but the market closes of an earlier flatten, and
        refuses opening orders until release. With ``flatten`` it also closes at market what
        those closes do not already cover of every position. Returns the cancellations, and
        for a flatten the close intents, each followed by its orders.
        """
        if not engaged:
            self._halted = False
            return []
        self._halted = True
        now = self.book.market_time_ns
        events: list[Event] = list(
            self.broker.cancel_all(f"kill switch engaged: {reason}", now, keep=_is_flatten)
        )
        if flatten:
            uncovered = [
                position
                for position in self.positions()
                if abs(position.quantity) > self.broker.working_close_quantity(position.position_id)
            ]
            intents = flatten_intents(
                uncovered, now, f"{FLATTEN_REASON}: {reason}", self._clock.now_ns()
            )
            for intent in intents:
                if intent.intent_id not in self._ordered:
                    events.append(intent)
                    events += self._submit(intent, now)
        return events

    def restore(self, events: Iterable[Event]) -> None:
        """Rebuild the state by folding recorded events (the trading log, in order)."""
        for event in events:
            self._restore_one(event)

    # -- submitting -------------------------------------------------------------------------

    def _submit(self, intent: OrderIntent, order_ts: int) -> list[Event]:
        self._intents[intent.intent_id] = intent
        self._ordered.add(intent.intent_id)
        events: list[Event] = []
        for leg_index, leg in enumerate(intent.legs):
            events += self._submit_leg(intent, leg_index, leg, order_ts)
        return events

    def _submit_leg(
        self, intent: OrderIntent, leg_index: int, leg: Leg, order_ts: int
    ) -> list[Event]:
        times = (order_ts, self._clock.now_ns())
        algo_id = self._config.algo_id
        try:
            spec = self._spec(leg, order_ts)
        except MarketFactsError as exc:
            order = make_order(intent, leg, (leg_index, 0), leg.quantity, times, algo_id)
            return [order, self._rejected(order, str(exc))]
        origin, quantity, refusal = self._plan(intent, leg)
        if refusal is not None:
            order = make_order(intent, leg, (leg_index, 0), leg.quantity, times, algo_id)
            return [order, self._rejected(order, refusal)]
        events: list[Event] = []
        for slice_index, units in enumerate(
            freeze_slices(quantity, spec.lot_size, spec.freeze_quantity)
        ):
            order = make_order(intent, leg, (leg_index, slice_index), units, times, algo_id)
            events += [order, self._verdict(order, origin, spec)]
        return events

    def _verdict(
        self, order: Order, origin: OrderOrigin, spec: ContractSpec
    ) -> OrderAccepted | OrderRejected:
        reason = rejection_reason(
            order, spec, self.book, self._halted, self._config.max_quote_age_ns
        )
        if reason is not None:
            return self._rejected(order, reason)
        return self.broker.accept(order, origin, spec.lot_size, spec.tick_size)

    def _plan(self, intent: OrderIntent, leg: Leg) -> tuple[OrderOrigin, int, str | None]:
        """The origin, quantity and any refusal of one leg; a close only ever reduces."""
        origin = self._origin(intent, leg)
        if intent.purpose == "open":
            return origin, leg.quantity, None
        target = None if origin.position_id is None else self.position_book.get(origin.position_id)
        if target is None:
            return origin, leg.quantity, "no open position to close"
        if (leg.side == "SELL") != (target.quantity > 0):
            return origin, leg.quantity, f"a {leg.side} would not reduce the position"
        working = self.broker.working_close_quantity(target.position_id)
        capacity = abs(target.quantity) - working
        if capacity <= 0:
            return origin, leg.quantity, "the position is already being closed"
        return origin, min(leg.quantity, capacity), None

    def _origin(self, intent: OrderIntent, leg: Leg) -> OrderOrigin:
        """Where the orders of a leg come from; a close names the position it reduces."""
        origin = OrderOrigin.of(intent)
        if intent.purpose == "open":
            return origin
        for position_id in intent.position_ids:
            named = self.position_book.get(position_id)
            if named is not None and named.contract == leg.contract:
                return dataclasses.replace(origin, position_id=position_id)
        target = self.position_book.target(origin, leg.contract)
        return (
            origin
            if target is None
            else dataclasses.replace(origin, position_id=target.position_id)
        )

    def _spec(self, leg: Leg, order_ts: int) -> ContractSpec:
        return self._facts.contract(leg.contract.underlying, trade_date(order_ts, self._facts))

    def _rejected(self, order: Order, reason: str) -> OrderRejected:
        coid = order.client_order_id
        return OrderRejected(
            event_id=derived_event_id("exec.order.rejected", coid),
            ts_event=order.ts_event,
            ts_init=self._clock.now_ns(),
            client_order_id=coid,
            reason=reason,
        )

    # -- restoring --------------------------------------------------------------------------

    def _restore_one(self, event: Event) -> None:
        if isinstance(event, ChainGreeks):
            self.book.on_chain(event)
        elif isinstance(event, VolatilityIndexTick):
            self.book.on_vix(event)
        elif isinstance(event, RiskDecision):
            self._intents.setdefault(event.intent.intent_id, event.intent)
        elif isinstance(event, OrderIntent):
            self._intents.setdefault(event.intent_id, event)
        elif isinstance(event, Order):
            self._ordered.add(event.intent_id)
            self._pending[event.client_order_id] = event
        elif isinstance(event, OrderAccepted):
            self._restore_accepted(event)
        elif isinstance(event, OrderRejected):
            self._pending.pop(event.client_order_id, None)
        elif isinstance(event, OrderCancelled):
            self.broker.forget(event.client_order_id)
        elif isinstance(event, Fill):
            self._restore_fill(event)
        elif isinstance(event, PositionOpened | PositionUpdated):
            self.position_book.adopt(event.position)
        elif isinstance(event, PositionClosed):
            self.position_book.drop(event.position_id)
        elif isinstance(event, KillSwitchEngaged | KillSwitchReleased):
            self._halted = isinstance(event, KillSwitchEngaged)

    def _restore_accepted(self, accepted: OrderAccepted) -> None:
        order = self._pending.pop(accepted.client_order_id, None)
        if order is None:
            return
        leg = Leg(contract=order.contract, side=order.side, quantity=order.quantity)
        intent = self._intents.get(order.intent_id)
        if intent is None:
            origin = OrderOrigin(
                intent_id=order.intent_id, strategy=order.strategy, group_id=order.group_id,
                purpose=order.purpose, reason="", model=None,
            )  # fmt: skip
        else:
            origin = self._origin(intent, leg)
        spec = self._spec(leg, order.ts_event)
        ticket = Ticket(order, origin, spec.lot_size, spec.tick_size, remaining=order.quantity)
        self.broker.track(ticket)

    def _restore_fill(self, fill: Fill) -> None:
        ticket = self.broker.count_fill(fill)
        if ticket is not None:
            self.position_book.apply_fill(fill, ticket.origin, None)
