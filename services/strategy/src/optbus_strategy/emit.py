"""Building the events strategies publish: signals, open and close intents, with fixed ids.

Ids derive from the chain that prompted the event, the strategy's name and a role
(``entry``, ``hedge-1``, ``close``, ...), so a replay of the same chains makes the same ids.
Every open intent carries the ``ModelStamp`` and the id of the signal it acts on.
"""

from __future__ import annotations

from dataclasses import dataclass

from optbus.events import Contract, Leg, ModelStamp, OrderIntent, Position, Side, Signal
from optbus.ids import derived_event_id
from optbus.scoring import stamp
from optbus_strategy.base import StrategyContext
from optbus_strategy.groups import Group
from optbus_strategy.params import CommonParams


@dataclass(frozen=True, slots=True)
class PlannedLeg:
    """One leg a strategy wants to open: the contract, the side and the size in lots."""

    contract: Contract
    side: Side
    lots: int


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """What a strategy wants to open, the contract whose features score it, and why.

    ``strength`` (0 to 1) is the strategy's own conviction; ``anchor`` is the leg whose
    features the scorer sees (documented per strategy in docs/strategies.md).
    """

    legs: tuple[PlannedLeg, ...]
    anchor: Contract
    strength: float
    reason: str


@dataclass(frozen=True, slots=True)
class Opening:
    """A signal and the open intent that acts on it."""

    signal: Signal
    intent: OrderIntent

    @property
    def model(self) -> ModelStamp:
        """The stamp both carry."""
        return self.signal.model


def open_group(
    ctx: StrategyContext,
    strategy: tuple[str, str],
    plan: EntryPlan,
    params: CommonParams,
    *,
    role: str,
    group_id: str | None = None,
) -> Opening | None:
    """A scored signal and its open intent for ``plan``; None when a leg has no quote.

    ``strategy`` is (name, kind). ``group_id`` is None for a new group (its id is derived).
    """
    name, kind = strategy
    chain = ctx.chain
    legs = _legs(ctx, plan, params)
    if legs is None:
        return None
    model = stamp(ctx.scorer, ctx.features(plan.anchor, kind, plan.strength))
    signal_id = derived_event_id(chain.event_id, name, role, "signal")
    signal = Signal(
        event_id=signal_id,
        ts_event=chain.ts_event,
        ts_init=ctx.now_ns,
        strategy=name,
        underlying=ctx.view.underlying,
        expiry=ctx.view.expiry,
        strength=plan.strength,
        model=model,
        source_event_id=chain.event_id,
    )
    intent_id = derived_event_id(chain.event_id, name, role, "intent")
    intent = OrderIntent(
        event_id=intent_id,
        ts_event=chain.ts_event,
        ts_init=ctx.now_ns,
        intent_id=intent_id,
        group_id=group_id or derived_event_id(chain.event_id, name, "group"),
        strategy=name,
        purpose="open",
        legs=legs,
        reason=plan.reason,
        signal_id=signal_id,
        model=model,
    )
    return Opening(signal=signal, intent=intent)


def close_positions(
    ctx: StrategyContext,
    name: str,
    group: Group,
    positions: list[Position],
    params: CommonParams,
    *,
    reason: str,
    role: str,
) -> OrderIntent:
    """A close intent for ``positions`` of ``group``: each the opposite side, same quantity.

    Limit prices follow ``close_pricing``, from the latest chain of each leg's expiry; a leg
    whose closing side has no quote gets no limit price (a market order): a close must not
    wait for a quote that may never come.
    """
    chain = ctx.chain
    legs = []
    for position in positions:
        side: Side = "SELL" if position.quantity > 0 else "BUY"
        pricing = params.close_pricing
        price = None
        if pricing != "market":
            price = ctx.limit_price(position.contract, side, pricing)
        legs.append(Leg(contract=position.contract, side=side,
                        quantity=abs(position.quantity), limit_price=price))  # fmt: skip
    intent_id = derived_event_id(chain.event_id, name, group.group_id, role)
    return OrderIntent(
        event_id=intent_id,
        ts_event=chain.ts_event,
        ts_init=ctx.now_ns,
        intent_id=intent_id,
        group_id=group.group_id,
        strategy=name,
        purpose="close",
        legs=legs,
        reason=reason,
        signal_id=group.signal_id,
        position_ids=[p.position_id for p in positions],
        model=group.stamp,
    )


def _legs(ctx: StrategyContext, plan: EntryPlan, params: CommonParams) -> list[Leg] | None:
    legs = []
    for planned in plan.legs:
        price = ctx.limit_price(planned.contract, planned.side, params.pricing)
        if price is None:
            return None
        quantity = planned.lots * ctx.spec.lot_size
        legs.append(Leg(contract=planned.contract, side=planned.side,
                        quantity=quantity, limit_price=price))  # fmt: skip
    return legs
