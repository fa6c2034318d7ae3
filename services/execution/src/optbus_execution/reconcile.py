"""Reconciliation: the broker's positions and open orders against what the event log says.

Pure: the broker's answers and the engine's state in, the differences out. Any difference
halts trading (execution engages the kill switch with ``reason`` as its reason) until an
operator looks (``optbus reconcile`` prints ``side_by_side``) and either fixes the account or
adopts the broker's state as the truth (``adoption``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from optbus.events import BrokerStateAdopted, Contract, MarketContext, Order, Position
from optbus.ids import derived_event_id
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


ADOPTED_STRATEGY = "adopted"
"""The strategy an adopted position is booked under (no strategy of optbus opened it)."""


def adoption(
    broker: Sequence[BrokerPosition],
    differences: Sequence[Difference],
    contract_of: Callable[[str], Contract | None],
    audit: tuple[str, str, str],
    now_ns: int,
) -> BrokerStateAdopted:
    """The event that makes the broker's positions the log's, ``audit = (operator, reason,
    venue)``. A position is entered at the broker's average price, at ``now_ns``, with no
    Greeks (the broker does not say what the market was when it was opened); an instrument
    optbus cannot name cannot be adopted and raises ``ValueError``."""
    operator, why, venue = audit
    adoption_id = derived_event_id("exec.reconciliation.adopted", venue, operator, now_ns)
    positions = []
    for held in broker:
        contract = contract_of(held.token)
        if contract is None:
            raise ValueError(f"cannot adopt {held.symbol}: not an option optbus knows")
        entry = MarketContext(
            ts=now_ns, option_price=held.average_price, iv=None, delta=None, gamma=None,
            theta=None, vega=None, spot=0.0, forward=0.0, india_vix=None, pcr=None,
            open_interest=0,
        )  # fmt: skip
        positions.append(
            Position(
                position_id=derived_event_id("adopted-position", adoption_id, held.token),
                strategy=ADOPTED_STRATEGY,
                group_id=adoption_id,
                contract=contract,
                quantity=held.net_quantity,
                average_price=held.average_price,
                entry=entry,
                model=None,
                charges=0.0,
            )
        )
    return BrokerStateAdopted(
        event_id=adoption_id, ts_event=now_ns, ts_init=now_ns, operator=operator, reason=why,
        venue=venue, differences=[f"{d.what}: broker {d.broker}, log {d.log}" for d in differences],
        positions=positions,
    )  # fmt: skip
