"""The execution state and the one fold that changes it: ``apply_event(state, event, facts)``.

The live path folds every event it makes (and every venue report) through ``apply_event``, and
a restart folds the recorded events through the very same function, so there is one way the
state changes and a restored engine is the live one. The parts of the state are books that
change in place (a backtest folds millions of quotes); nothing else changes them. The one
exception is ``halted``: the kill switch is an operator's command, not an event of the
trading log, so it is set by the command (``ExecutionEngine.on_kill_switch``) and, at start,
from the kill-switch bucket.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from optbus.clock import Clock
from optbus.events import (
    BrokerStateAdopted,
    ChainGreeks,
    Contract,
    Event,
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderIntent,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    PositionSettled,
    PositionUpdated,
    RiskDecision,
    VolatilityIndexTick,
)
from optbus.market import ContractSpec, MarketFacts
from optbus_execution.book import MarketBook
from optbus_execution.config import ExecutionConfig
from optbus_execution.orders import OrderOrigin, Ticket
from optbus_execution.positions import PositionBook
from optbus_execution.settlement import SettlementPrices, settlement_context
from optbus_execution.working import WorkingOrders


@dataclass(slots=True)
class ExecutionState:
    """Everything execution knows: the market, its orders and intents, positions, the switch.

    ``pending`` holds the orders sent and not yet answered; ``ordered`` the intents that have
    orders (a redelivered decision for one of them orders nothing); ``margins`` the margin risk
    computed for each approved intent (a live broker's available margin is checked against it).
    """

    book: MarketBook
    working: WorkingOrders
    positions: PositionBook
    settlement_prices: SettlementPrices
    halted: bool = False
    intents: dict[str, OrderIntent] = field(default_factory=dict)
    ordered: set[str] = field(default_factory=set)
    pending: dict[str, Order] = field(default_factory=dict)
    margins: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def initial(
        config: ExecutionConfig, clock: Clock, facts: MarketFacts, *, halted: bool
    ) -> ExecutionState:
        """The state before any event: no market, no orders, no positions."""
        book = MarketBook(config.max_quote_age_ns, config.vix_index, facts.futures_expiry)
        return ExecutionState(
            book, WorkingOrders(), PositionBook(clock), SettlementPrices(facts), halted
        )


def apply_event(state: ExecutionState, event: Event, facts: MarketFacts) -> list[Event]:
    """Fold one event into ``state``; returns the position and trade events a fill causes.

    Events execution does not use change nothing.
    """
    match event:
        case ChainGreeks():
            state.book.on_chain(event)
            snapshot = event.snapshot
            state.settlement_prices.on_chain(snapshot.underlying, snapshot.spot, event.ts_event)
        case VolatilityIndexTick():
            state.book.on_vix(event)
        case RiskDecision():
            state.intents.setdefault(event.intent.intent_id, event.intent)
            if event.margin_required is not None:
                state.margins.setdefault(event.intent.intent_id, event.margin_required)
        case OrderIntent():
            state.intents.setdefault(event.intent_id, event)
        case Order():
            state.ordered.add(event.intent_id)
            state.pending[event.client_order_id] = event
        case OrderAccepted():
            _accepted(state, event, facts)
        case OrderRejected():
            state.pending.pop(event.client_order_id, None)
        case OrderCancelled():
            state.working.forget(event.client_order_id)
        case Fill():
            return _fill(state, event)
        case PositionOpened() | PositionUpdated():
            state.positions.adopt(event.position)
        case PositionClosed():
            state.positions.drop(event.position_id)
        case BrokerStateAdopted():
            for position in state.positions.positions():
                state.positions.drop(position.position_id)
            for position in event.positions:
                state.positions.adopt(position)
        case PositionSettled():
            return _settled(state, event)
    return []


def origin_of(state: ExecutionState, intent: OrderIntent, contract: Contract) -> OrderOrigin:
    """Where the orders of ``intent`` on ``contract`` come from; a close names its position."""
    origin = OrderOrigin.of(intent)
    if intent.purpose == "open":
        return origin
    for position_id in intent.position_ids:
        named = state.positions.get(position_id)
        if named is not None and named.contract == contract:
            return dataclasses.replace(origin, position_id=position_id)
    target = state.positions.target(origin, contract)
    return origin if target is None else dataclasses.replace(origin, position_id=target.position_id)


def contract_spec(facts: MarketFacts, contract: Contract, at_ns: int) -> ContractSpec:
    """The facts of ``contract`` in force at ``at_ns`` (lot, tick, freeze quantity)."""
    return facts.contract(contract.underlying, facts.local_date(at_ns))


def _accepted(state: ExecutionState, accepted: OrderAccepted, facts: MarketFacts) -> None:
    """An accepted order starts working, aimed where its intent aims it."""
    order = state.pending.pop(accepted.client_order_id, None)
    if order is None:
        return
    intent = state.intents.get(order.intent_id)
    if intent is None:
        origin = OrderOrigin(
            intent_id=order.intent_id, strategy=order.strategy, group_id=order.group_id,
            purpose=order.purpose, reason="", model=None,
        )  # fmt: skip
    else:
        origin = origin_of(state, intent, order.contract)
    spec = contract_spec(facts, order.contract, order.ts_event)
    ticket = Ticket(order, origin, spec.lot_size, spec.tick_size, remaining=order.quantity)
    state.working.track(ticket)


def _settled(state: ExecutionState, settled: PositionSettled) -> list[Event]:
    """A settlement closes its position at the close of its expiry day."""
    close_ns = state.settlement_prices.close_ns(settled.contract.expiry)
    at_ns = settled.ts_event if close_ns is None else close_ns
    context = settlement_context(settled, at_ns, state.book.india_vix)
    return state.positions.settle(settled, context)


def _fill(state: ExecutionState, fill: Fill) -> list[Event]:
    """A fill of a working order changes its position, in the market of the fill's time."""
    ticket = state.working.count_fill(fill)
    if ticket is None:
        return []
    context = state.book.context(fill.contract, fill.ts_event)
    return state.positions.apply_fill(fill, ticket.origin, context)
