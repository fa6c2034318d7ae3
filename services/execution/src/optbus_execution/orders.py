"""Orders from an approved intent: one per leg and per freeze-quantity slice, and why to refuse one.

Deterministic ids: a client order id is fixed by the intent id, the leg and the slice, so a
redelivered decision or a replay makes the very same orders.
"""

from __future__ import annotations

from dataclasses import dataclass

from optbus.events import Leg, ModelStamp, Order, OrderIntent, OrderPurpose
from optbus.ids import derived_event_id
from optbus.market import ContractSpec
from optbus_execution.book import MarketBook
from optbus_execution.slippage import is_on_tick

_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class OrderOrigin:
    """What an order came from: its intent, and for a close, the position it reduces."""

    intent_id: str
    strategy: str
    group_id: str
    purpose: OrderPurpose
    reason: str
    model: ModelStamp | None
    position_id: str | None = None

    @staticmethod
    def of(intent: OrderIntent, position_id: str | None = None) -> OrderOrigin:
        """The origin of the orders of ``intent``."""
        return OrderOrigin(
            intent_id=intent.intent_id,
            strategy=intent.strategy,
            group_id=intent.group_id,
            purpose=intent.purpose,
            reason=intent.reason,
            model=intent.model,
            position_id=position_id,
        )


@dataclass(slots=True)
class Ticket:
    """A working order: the order, where it came from, its contract facts and what is left."""

    order: Order
    origin: OrderOrigin
    lot_size: int
    tick_size: float
    remaining: int
    fills: int = 0


def client_order_id(intent_id: str, leg_index: int, slice_index: int) -> str:
    """The client order id of one slice of one leg of an intent."""
    return derived_event_id("client-order", intent_id, leg_index, slice_index)


def broker_order_id(client_order_id: str) -> str:
    """The paper broker's id for an order it accepted."""
    return derived_event_id("paper-broker-order", client_order_id)


def make_order(
    intent: OrderIntent,
    leg: Leg,
    ids: tuple[int, int],
    quantity: int,
    times: tuple[int, int],
    algo_id: str,
) -> Order:
    """The order of slice ``ids = (leg index, slice index)`` at ``times = (order ns, init ns)``."""
    coid = client_order_id(intent.intent_id, *ids)
    ts_event, ts_init = times
    return Order(
        event_id=derived_event_id("exec.order", coid),
        ts_event=ts_event,
        ts_init=ts_init,
        client_order_id=coid,
        algo_id=algo_id,
        intent_id=intent.intent_id,
        group_id=intent.group_id,
        strategy=intent.strategy,
        purpose=intent.purpose,
        contract=leg.contract,
        side=leg.side,
        quantity=quantity,
        order_type="market" if leg.limit_price is None else "limit",
        limit_price=leg.limit_price,
    )


def rejection_reason(
    order: Order, spec: ContractSpec, book: MarketBook, halted: bool, max_quote_age_ns: int
) -> str | None:
    """Why the broker refuses ``order`` at its order time, or None when it takes it."""
    if halted and order.purpose == "open":
        return "kill switch engaged: opening orders are refused"
    if order.quantity <= 0 or order.quantity % spec.lot_size:
        return f"quantity {order.quantity} is not a positive multiple of the lot {spec.lot_size}"
    if order.limit_price is not None:
        if order.limit_price <= 0.0:
            return f"limit price {order.limit_price} can never fill"
        if not is_on_tick(order.limit_price, spec.tick_size):
            return f"limit price {order.limit_price} is not a multiple of the tick {spec.tick_size}"
    age = book.quote_age_ns(order.contract, order.ts_event)
    if age is None:
        return "no quote for the contract"
    if age > max_quote_age_ns:
        return f"stale quote: {age // _NS_PER_MS} ms old, limit {max_quote_age_ns // _NS_PER_MS} ms"
    return None
