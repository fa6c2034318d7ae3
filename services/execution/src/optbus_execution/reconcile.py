"""Reconciliation: the broker's positions and open orders against what the event log says.

Pure: the broker's answers and the engine's state in, the differences out. Any difference
halts trading (execution engages the kill switch with ``reason`` as its reason) until an
operator looks (``optbus reconcile`` prints ``side_by_side``) and either fixes the account or
adopts the broker's state as the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from optbus.events import Contract, Order, Position
from optbus_brokers.orders import BrokerOrder, BrokerPosition

_OPEN_STATUSES = ("pending", "open")


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing the broker and the log disagree on: ``what`` it is, and each side's number
    (a net position in units, or an open order's remaining units)."""

    what: str
    broker: int
    log: int


def describe_contract(contract: Contract) -> str:
    """A contract as a trader reads it: ``NIFTY 2026-12-08 26000 CE``."""
    return (
        f"{contract.underlying} {contract.expiry.isoformat()} "
        f"{contract.strike:g} {contract.option_type}"
    )


def position_differences(
    broker: Sequence[BrokerPosition],
    log: Sequence[Position],
    contract_of: Callable[[str], Contract | None],
) -> list[Difference]:
    """Net positions by contract that differ (an instrument the broker holds but optbus cannot
    name is shown by the broker's symbol)."""
    at_broker: dict[str, int] = {}
    for held in broker:
        contract = contract_of(held.token)
        what = held.symbol if contract is None else describe_contract(contract)
        at_broker[what] = at_broker.get(what, 0) + held.net_quantity
    in_log: dict[str, int] = {}
    for position in log:
        what = describe_contract(position.contract)
        in_log[what] = in_log.get(what, 0) + position.quantity
    return [
        Difference(f"position {what}", at_broker.get(what, 0), in_log.get(what, 0))
        for what in sorted(at_broker.keys() | in_log.keys())
        if at_broker.get(what, 0) != in_log.get(what, 0)
    ]


def order_differences(
    broker: Sequence[BrokerOrder], working: Sequence[tuple[Order, int]]
) -> list[Difference]:
    """Open orders (by client order id) that are open on one side only or with a different
    quantity left; ``working`` is the log's working orders with their remaining units."""
    at_broker = {
        row.client_order_id or f"broker {row.broker_order_id}": row.quantity - row.filled_quantity
        for row in broker
        if row.status in _OPEN_STATUSES
    }
    in_log = {order.client_order_id: remaining for order, remaining in working}
    return [
        Difference(f"open order {coid}", at_broker.get(coid, 0), in_log.get(coid, 0))
        for coid in sorted(at_broker.keys() | in_log.keys())
        if at_broker.get(coid, 0) != in_log.get(coid, 0)
    ]


def reason(differences: Sequence[Difference]) -> str:
    """The differences in one line, for the kill switch's reason."""
    parts = [f"{d.what}: broker {d.broker}, log {d.log}" for d in differences]
    return "reconciliation mismatch: " + "; ".join(parts)


def side_by_side(differences: Sequence[Difference]) -> str:
    """The differences as a table an operator reads: what, the broker's number, the log's."""
    if not differences:
        return "broker and log agree: no differences"
    width = max(len("what"), *(len(d.what) for d in differences))
    lines = [f"{'what':<{width}}  {'broker':>8}  {'log':>8}"]
    lines += [f"{d.what:<{width}}  {d.broker:>8}  {d.log:>8}" for d in differences]
    return "\n".join(lines)
