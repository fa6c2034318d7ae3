"""The execution engine: orders from decisions, sent to a venue, and one fold of what follows.

Each method takes one input event and returns the events it causes, in order; it never
publishes. Everything it makes or hears from the venue is folded into its state through
``fold.apply_event``, the function a restart folds the recorded events through, so the live
path and a restore cannot drift apart. Orders are timed on the market clock (the latest source
time seen, or the decision's own time when that is later), so a replay makes the same orders,
fills and trades.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from optbus.clock import Clock
from optbus.events import (
    ChainGreeks,
    EndOfDay,
    Event,
    Leg,
    Order,
    OrderIntent,
    OrderRejected,
    Position,
    RiskDecision,
    VolatilityIndexTick,
)
from optbus.ids import derived_event_id
from optbus.market import ContractSpec, MarketFacts, MarketFactsError
from optbus.slicing import freeze_slices
from optbus_execution.config import ExecutionConfig
from optbus_execution.fold import ExecutionState, apply_event, contract_spec, origin_of
from optbus_execution.orders import Ticket, make_order, rejection_reason
from optbus_execution.positions import flatten_intents
from optbus_execution.settlement import settlement_of
from optbus_execution.venue import Venue, VenueReport

FLATTEN_REASON = "kill switch flatten"
EXPIRED = "the contract expired: its positions are settled"


def _is_flatten(ticket: Ticket) -> bool:
    return ticket.origin.reason.startswith(FLATTEN_REASON)


class ExecutionEngine:
    """The pure domain of the execution service: events in, events out, orders to a venue.

    ``venue`` reports on ``clock``, the engine's clock; ``facts`` are loaded by the caller.
    """

    def __init__(
        self,
        config: ExecutionConfig,
        venue: Venue,
        clock: Clock,
        facts: MarketFacts,
        halted: bool = False,
    ) -> None:
        self._config = config
        self._venue = venue
        self._clock = clock
        self._facts = facts
        self.state = ExecutionState.initial(config, clock, facts, halted=halted)

    @property
    def halted(self) -> bool:
        """Whether the kill switch is engaged (no opening order is accepted)."""
        return self.state.halted

    def positions(self) -> list[Position]:
        """The open positions, oldest first."""
        return self.state.positions.positions()

    def working_orders(self) -> list[Order]:
        """The orders still working at the venue, oldest first."""
        return [ticket.order for ticket in self.state.working.tickets()]

    def fold(self, event: Event) -> list[Event]:
        """Apply an event to the state; the position and trade events it causes. The live path
        and a restore from the trading log (the service's declared history) both fold here."""
        return apply_event(self.state, event, self._facts)

    def on_report(self, report: VenueReport) -> list[Event]:
        """A venue's report, followed by the position and trade events it causes."""
        return [report, *self.fold(report)]

    def on_chain(self, chain: ChainGreeks) -> list[Event]:
        """Take a chain's quotes; the settlements of what expired before it, what the venue
        reports on the quotes, and the position events."""
        self.fold(chain)
        events = self._settle_expired(chain.ts_event)
        key = (chain.snapshot.underlying, chain.snapshot.expiry)
        working = self.state.working.of_chain(key)
        if not working:
            return events
        return events + self._reported(self._venue.on_market(chain, self.state.book, working))

    def on_end_of_day(self, end_of_day: EndOfDay) -> list[Event]:
        """Settle what expired with the day, without waiting for the next session's chains."""
        return self._settle_expired(max(end_of_day.ts_event, self.state.book.market_time_ns))

    def _settle_expired(self, now: int) -> list[Event]:
        """Settle every open position whose expiry day closed before ``now``.

        Working orders on an expired contract can no longer fill: they are cancelled first. A
        position whose settlement price is unknown (no chain of its underlying was seen on its
        expiry day) stays open until one is.
        """
        prices = self.state.settlement_prices
        events: list[Event] = []
        cancelled: set[tuple[str, date]] = set()
        for position in self.positions():
            underlying, expiry = position.contract.underlying, position.contract.expiry
            close_ns = prices.close_ns(expiry)
            price = prices.price(underlying, expiry)
            if close_ns is None or now <= close_ns or price is None:
                continue
            if (underlying, expiry) not in cancelled:
                cancelled.add((underlying, expiry))
                for ticket in self.state.working.of_chain((underlying, expiry)):
                    events += self._reported(self._venue.cancel(ticket.order, EXPIRED, now))
            settled = settlement_of(position, price, now, self._clock.now_ns())
            events += [settled, *self.fold(settled)]
        return events

    def on_vix(self, tick: VolatilityIndexTick) -> list[Event]:
        """Take a volatility index tick (recorded in later market contexts); causes nothing."""
        return self.fold(tick)

    def on_decision(self, decision: RiskDecision) -> list[Event]:
        """Orders for an approved intent, each followed by its acceptance or rejection.

        A rejected intent causes nothing; an intent already ordered (a redelivery) neither.
        """
        intent = decision.intent
        self.fold(decision)
        if not decision.approved or intent.intent_id in self.state.ordered:
            return []
        return self._submit(intent, max(decision.ts_event, self.state.book.market_time_ns))

    def on_kill_switch(self, engaged: bool, flatten: bool = False, reason: str = "") -> list[Event]:
        """Engage or release the kill switch; engaging again changes nothing that is in hand.

        Engaging cancels every working order but the market closes of an earlier flatten, and
        refuses opening orders until release. With ``flatten`` it also closes at market what
        those closes do not already cover of every position. Returns the cancellations, and
        for a flatten the close intents, each followed by its orders.
        """
        self.state.halted = engaged
        if not engaged:
            return []
        now = self.state.book.market_time_ns
        events: list[Event] = []
        for ticket in self.state.working.tickets():
            if not _is_flatten(ticket):
                cancel = self._venue.cancel(ticket.order, f"kill switch engaged: {reason}", now)
                events += self._reported(cancel)
        if flatten:
            events += self._flatten(now, reason)
        return events

    def _flatten(self, now: int, reason: str) -> list[Event]:
        """Close intents at market for what working closes leave of every position."""
        uncovered = [
            position
            for position in self.positions()
            if abs(position.quantity) > self.state.working.close_quantity(position.position_id)
        ]
        intents = flatten_intents(
            uncovered, now, f"{FLATTEN_REASON}: {reason}", self._clock.now_ns()
        )
        events: list[Event] = []
        for intent in intents:
            if intent.intent_id not in self.state.ordered:
                events += [intent, *self.fold(intent)]
                events += self._submit(intent, now)
        return events

    # -- submitting -------------------------------------------------------------------------

    def _submit(self, intent: OrderIntent, order_ts: int) -> list[Event]:
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
            spec = contract_spec(self._facts, leg.contract, order_ts)
        except MarketFactsError as exc:
            order = make_order(intent, leg, (leg_index, 0), leg.quantity, times, algo_id)
            return self._refused(order, str(exc))
        quantity, refusal = self._plan(intent, leg)
        if refusal is not None:
            order = make_order(intent, leg, (leg_index, 0), leg.quantity, times, algo_id)
            return self._refused(order, refusal)
        events: list[Event] = []
        for slice_index, units in enumerate(
            freeze_slices(quantity, spec.lot_size, spec.freeze_quantity)
        ):
            order = make_order(intent, leg, (leg_index, slice_index), units, times, algo_id)
            events += self._place(order, spec)
        return events

    def _place(self, order: Order, spec: ContractSpec) -> list[Event]:
        """The order as the venue sends it, then the venue's answer, or the engine's refusal
        if it fails a check."""
        reason = rejection_reason(
            order, spec, self.state.book, self.state.halted, self._config.max_quote_age_ns
        )
        if reason is not None:
            return self._refused(order, reason)
        sent = self._venue.priced(order)
        return [sent, *self.fold(sent), *self._reported(self._venue.place(sent))]

    def _plan(self, intent: OrderIntent, leg: Leg) -> tuple[int, str | None]:
        """The quantity and any refusal of one leg; a close only ever reduces."""
        if intent.purpose == "open":
            return leg.quantity, None
        position_id = origin_of(self.state, intent, leg.contract).position_id
        target = None if position_id is None else self.state.positions.get(position_id)
        if target is None:
            return leg.quantity, "no open position to close"
        if (leg.side == "SELL") != (target.quantity > 0):
            return leg.quantity, f"a {leg.side} would not reduce the position"
        capacity = abs(target.quantity) - self.state.working.close_quantity(target.position_id)
        if capacity <= 0:
            return leg.quantity, "the position is already being closed"
        return min(leg.quantity, capacity), None

    def _refused(self, order: Order, reason: str) -> list[Event]:
        """The order and the engine's own rejection of it (it never reaches the venue)."""
        coid = order.client_order_id
        rejected = OrderRejected(
            event_id=derived_event_id("exec.order.rejected", coid),
            ts_event=order.ts_event,
            ts_init=self._clock.now_ns(),
            client_order_id=coid,
            reason=reason,
        )
        return [order, *self.fold(order), rejected, *self.fold(rejected)]

    def _reported(self, reports: Iterable[VenueReport]) -> list[Event]:
        return [event for report in reports for event in self.on_report(report)]
