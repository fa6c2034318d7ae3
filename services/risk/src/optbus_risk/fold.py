"""The risk state folded purely from events: ``evolve(state, event, env) -> Step``.

Positions come from PositionOpened/Updated/Closed (and are replaced whole by an operator's
adoption of the broker's positions, BrokerStateAdopted), the day's realised P&L from TradeClosed,
orders sent and working quantities from approved RiskDecisions, Orders, Fills and order ends,
quotes, Greeks and the positions' marks (unrealised P&L) from ChainGreeks, and the kill switch
from its events or an operator's command. Only two things emit events: a TradeClosed or a
chain's marks that trip the circuit breaker (CircuitBreakerTripped, once a day) and a
kill-switch command (KillSwitchEngaged or KillSwitchReleased).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from optbus.events import (
    BrokerStateAdopted,
    ChainGreeks,
    CircuitBreakerTripped,
    Event,
    Fill,
    KillSwitchCommand,
    KillSwitchEngaged,
    KillSwitchReleased,
    Order,
    OrderCancelled,
    OrderIntent,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
    TradeClosed,
)
from optbus.quotes import chain_key, key_of_chain, quote_in_chain
from optbus_risk import killswitch
from optbus_risk.circuit import record_marks, record_trade, record_trip
from optbus_risk.context import RiskEnv
from optbus_risk.marking import book_unrealised, mark_of
from optbus_risk.orders import orders_by_segment
from optbus_risk.quotes import delisted_quotes
from optbus_risk.state import LegKey, OrderRef, PendingClose, RiskState, SeenIds, WorkingIntent


@dataclass(frozen=True, slots=True)
class Step:
    """The state after one event, and the events that folding it emitted."""

    state: RiskState
    events: tuple[Event, ...] = ()


def evolve(state: RiskState, event: Event, env: RiskEnv) -> Step:
    """Fold one bus event into the state; events the risk state does not use change nothing."""
    match event:
        case ChainGreeks():
            return _chain(state, event, env)
        case PositionOpened() | PositionUpdated():
            return Step(_position(state, event))
        case PositionClosed():
            return Step(_position_closed(state, event))
        case BrokerStateAdopted():
            return Step(_adopted(state, event))
        case TradeClosed():
            pnl, tripped = record_trade(state.pnl, event, env.config, env.facts, env.clock)
            return Step(replace(state, pnl=pnl), tripped)
        case CircuitBreakerTripped():
            return Step(replace(state, pnl=record_trip(state.pnl, event, env.facts)))
        case RiskDecision():
            return Step(_decision(state, event, env))
        case Order():
            return Step(_order(state, event))
        case Fill():
            return Step(_fill(state, event))
        case OrderRejected() | OrderCancelled():
            return Step(_order_ended(state, event.client_order_id))
        case KillSwitchEngaged() | KillSwitchReleased():
            switch = killswitch.apply_kill_switch_event(state.kill_switch, event)
            return Step(replace(state, kill_switch=switch))
    return Step(state)


def command(
    state: RiskState, cmd: KillSwitchCommand, *, command_id: str, ts_event: int, env: RiskEnv
) -> Step:
    """Apply an operator's kill-switch command (see ``killswitch.apply_command``)."""
    outcome = killswitch.apply_command(
        cmd, state.kill_switch, command_id=command_id, ts_event=ts_event, clock=env.clock,
        release_operators=env.config.release_operators,
    )  # fmt: skip
    return Step(replace(state, kill_switch=outcome.state), outcome.events)


def _chain(state: RiskState, chain: ChainGreeks, env: RiskEnv) -> Step:
    key = key_of_chain(chain)
    known = state.chains.get(key)
    if known is not None and known.ts_event > chain.ts_event:
        return Step(state)
    chains = {**state.chains, key: chain}
    if known is None or known.snapshot.strikes == chain.snapshot.strikes:
        state = replace(state, chains=chains)
    else:
        today = env.facts.local_date(chain.ts_event)
        delisted = delisted_quotes(state.delisted_quotes, known, chain, today)
        state = replace(state, chains=chains, delisted_quotes=delisted)
    return _marked(state, chain, env)


def _marked(state: RiskState, chain: ChainGreeks, env: RiskEnv) -> Step:
    """Mark the positions ``chain`` quotes; the breaker sees the new unrealised P&L."""
    key = key_of_chain(chain)
    marks = dict(state.position_marks)
    for position in state.positions.values():
        if chain_key(position.contract) != key:
            continue
        quote = quote_in_chain(chain, position.contract)
        mark = None if quote is None else mark_of(quote)
        if mark is not None:
            marks[position.position_id] = mark
    if not marks:
        return Step(state)
    unrealised = book_unrealised(state.positions.values(), marks)
    trigger = (chain.event_id, chain.ts_event)
    pnl, tripped = record_marks(state.pnl, unrealised, trigger, env.config, env.facts, env.clock)
    return Step(replace(state, position_marks=marks, pnl=pnl), tripped)


def _position(state: RiskState, event: PositionOpened | PositionUpdated) -> RiskState:
    position = event.position
    if position.quantity == 0:
        return _without_position(state, position.position_id)
    return _remarked(replace(state, positions={**state.positions, position.position_id: position}))


def _position_closed(state: RiskState, event: PositionClosed) -> RiskState:
    return _without_position(state, event.position_id)


def _adopted(state: RiskState, adopted: BrokerStateAdopted) -> RiskState:
    """The broker's positions become the book, as they do in execution: a position the
    adoption drops loses its pending close and its mark; one it keeps keeps them."""
    positions = {p.position_id: p for p in adopted.positions if p.quantity != 0}
    pending = {k: v for k, v in state.pending_closes.items() if k in positions}
    marks = {k: v for k, v in state.position_marks.items() if k in positions}
    state = replace(state, positions=positions, pending_closes=pending, position_marks=marks)
    return _remarked(state)


def _without_position(state: RiskState, position_id: str) -> RiskState:
    positions = {k: v for k, v in state.positions.items() if k != position_id}
    pending = {k: v for k, v in state.pending_closes.items() if k != position_id}
    marks = {k: v for k, v in state.position_marks.items() if k != position_id}
    state = replace(state, positions=positions, pending_closes=pending, position_marks=marks)
    return _remarked(state)


def _remarked(state: RiskState) -> RiskState:
    """The state with the unrealised P&L of its positions at their latest marks (a position
    that opens, changes or closes changes it; the breaker waits for the next chain or trade)."""
    unrealised = book_unrealised(state.positions.values(), state.position_marks)
    return replace(state, pnl=state.pnl.marked(unrealised))


def _decision(state: RiskState, decision: RiskDecision, env: RiskEnv) -> RiskState:
    """Record an intent as seen; an approval adds its orders to the rate window and its legs to
    the working quantities. A decision already folded (same intent id) changes nothing."""
    intent = decision.intent
    if intent.intent_id in state.seen_intents:
        return state
    day = env.facts.local_date(intent.ts_event)
    state = _on_day(state, day)
    state = replace(
        state,
        seen_intents=state.seen_intents.with_id(intent.intent_id),
        pending_closes=_pending_after(state.pending_closes, intent, approved=decision.approved),
    )
    if not decision.approved:
        return state
    windows = dict(state.order_windows)
    window_ns = env.config.order_rate.window_ns
    for segment, count in orders_by_segment(intent, env.config, env.facts).items():
        windows[segment] = state.order_window(segment).record(intent.ts_event, count, window_ns)
    remaining: dict[LegKey, int] = {}
    for leg in intent.legs:
        key = (leg.contract, leg.side)
        remaining[key] = remaining.get(key, 0) + max(leg.quantity, 0)
    working = WorkingIntent(
        intent_id=intent.intent_id, purpose=intent.purpose,
        position_ids=tuple(intent.position_ids), day=day, remaining=remaining,
    )  # fmt: skip
    return replace(
        state, order_windows=windows, working={**state.working, intent.intent_id: working}
    )


def _pending_after(
    pending: Mapping[str, PendingClose], intent: OrderIntent, *, approved: bool
) -> Mapping[str, PendingClose]:
    """The monitor's pending closes once risk decided ``intent``: a refusal of one of them adds
    a rejection in a row (the monitor backs off), an approval clears the count."""
    changed: dict[str, PendingClose] = {}
    for position_id in intent.position_ids:
        close = pending.get(position_id)
        if close is not None and close.intent_id == intent.intent_id:
            rejections = 0 if approved else close.rejections + 1
            changed[position_id] = replace(close, rejections=rejections)
    return {**pending, **changed} if changed else pending


def _on_day(state: RiskState, day: date) -> RiskState:
    """Start a new day when ``day`` is later than the one on record: forget the ids seen and
    the working quantities (exchange orders of options are day orders)."""
    if state.seen_day is not None and day <= state.seen_day:
        return state
    return replace(state, seen_intents=SeenIds(), seen_day=day, working={}, orders={})


def _order(state: RiskState, order: Order) -> RiskState:
    """Remember which working intent an exchange order belongs to (others are not ours)."""
    if order.intent_id not in state.working:
        return state
    ref = OrderRef(
        intent_id=order.intent_id, contract=order.contract, side=order.side,
        remaining=order.quantity,
    )  # fmt: skip
    return replace(state, orders={**state.orders, order.client_order_id: ref})


def _fill(state: RiskState, fill: Fill) -> RiskState:
    """A fill moves quantity from working to the position execution will report."""
    ref = state.orders.get(fill.client_order_id)
    if ref is None:
        return state
    left = ref.remaining - fill.quantity
    orders = dict(state.orders)
    if left > 0:
        orders[fill.client_order_id] = replace(ref, remaining=left)
    else:
        del orders[fill.client_order_id]
    working = _reduce_working(state, ref, min(fill.quantity, ref.remaining))
    return replace(state, orders=orders, working=working)


def _order_ended(state: RiskState, client_order_id: str) -> RiskState:
    """A rejected or cancelled order will fill no more: its rest leaves the working quantity."""
    ref = state.orders.get(client_order_id)
    if ref is None:
        return state
    orders = {k: v for k, v in state.orders.items() if k != client_order_id}
    return replace(state, orders=orders, working=_reduce_working(state, ref, ref.remaining))


def _reduce_working(state: RiskState, ref: OrderRef, quantity: int) -> dict[str, WorkingIntent]:
    working = dict(state.working)
    intent = working.get(ref.intent_id)
    if intent is None:
        return working
    key = (ref.contract, ref.side)
    remaining = {**intent.remaining, key: max(0, intent.remaining.get(key, 0) - quantity)}
    updated = replace(intent, remaining=remaining)
    if updated.done:
        del working[ref.intent_id]
    else:
        working[ref.intent_id] = updated
    return working
