"""The life cycle every built-in strategy shares: enter, manage, exit, cool down.

A concrete strategy subclasses ``GroupStrategy`` and writes ``plan_entry`` (what to open on a
chain, if anything), and optionally ``adjust`` (delta hedges and rolls, with ``may_adjust``
and ``roll``) and ``exit_reason`` (extra exit rules, after the common ones: expiry, target,
stop, holding time).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from optbus.events import (
    ChainGreeks,
    Position,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
)
from optbus_strategy.base import Output, StrategyContext
from optbus_strategy.emit import EntryPlan, close_positions, open_group
from optbus_strategy.groups import Group, GroupBook
from optbus_strategy.params import CommonParams, StrategySpec

P = TypeVar("P", bound=CommonParams)

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND


class GroupStrategy(ABC, Generic[P]):
    """A strategy that trades one group of legs at a time per underlying."""

    def __init__(self, spec: StrategySpec, params: P) -> None:
        self._spec = spec
        self._underlyings = frozenset(spec.underlyings)
        self.params: P = params
        self.book = GroupBook(
            cooldown_ns=int(params.cooldown_seconds * _NS_PER_SECOND),
            pending_timeout_ns=int(params.pending_timeout_seconds * _NS_PER_SECOND),
        )

    @property
    def name(self) -> str:
        """The configured, unique name."""
        return self._spec.name

    @property
    def kind(self) -> str:
        """The registry name of this strategy's code."""
        return self._spec.kind

    @property
    def underlyings(self) -> frozenset[str]:
        """The underlyings it trades."""
        return self._underlyings

    @abstractmethod
    def plan_entry(self, ctx: StrategyContext) -> EntryPlan | None:
        """What to open on this chain, or None. Called only when an entry is allowed."""

    def adjust(self, group: Group, ctx: StrategyContext) -> list[Output]:
        """Adjustments of an open group that is not exiting (none by default)."""
        return []

    def exit_reason(self, group: Group, ctx: StrategyContext) -> str | None:
        """Why the open group should close now, or None; subclasses add rules via super()."""
        p = self.params
        if ctx.view.minutes_to_expiry <= p.exit_minutes_before_expiry:
            return "expiry"
        before_close = p.exit_minutes_before_close
        if before_close > 0 and ctx.minutes_to_close <= before_close:
            return "session_close"
        held_minutes = (ctx.ts_ns - group.opened_ns) / _NS_PER_MINUTE
        if p.max_holding_minutes > 0 and held_minutes >= p.max_holding_minutes:
            return "time"
        pnl, basis = group.pnl(ctx), abs(group.net_premium())
        if pnl is None or basis <= 0:
            return None
        if pnl >= p.target_profit * basis:
            return "target"
        if pnl <= -p.stop_loss * basis:
            return "stop"
        return None

    def may_adjust(
        self, group: Group, ctx: StrategyContext, max_adjustments: int, cooldown_seconds: float
    ) -> bool:
        """Whether ``group`` has adjustments left and the last one is ``cooldown_seconds`` old."""
        cooldown_ns = int(cooldown_seconds * _NS_PER_SECOND)
        return (
            group.adjustments < max_adjustments and ctx.ts_ns - group.last_adjust_ns >= cooldown_ns
        )

    def roll(
        self, group: Group, ctx: StrategyContext, closing: list[Position], plan: EntryPlan
    ) -> list[Output]:
        """Close ``closing`` and open ``plan`` within ``group``: its next adjustment.

        The close comes first and the open is expected by the group, so the group lives on
        while the old legs close and the new ones open. Nothing when a new leg has no quote.
        """
        n = group.adjustments + 1
        opening = open_group(ctx, (self.name, self.kind), plan, self.params,
                             role=f"roll-{n}", group_id=group.group_id)  # fmt: skip
        if opening is None:
            return []
        close = close_positions(ctx, self.name, group, closing, self.params,
                                reason=f"roll-{n}", role=f"roll-{n}-close")  # fmt: skip
        group.adjustments, group.last_adjust_ns = n, ctx.ts_ns
        self.book.expect(group, opening.intent)
        return [close, opening.signal, opening.intent]

    def on_chain(self, chain: ChainGreeks, context: StrategyContext) -> list[Output]:
        """Manage live groups on this chain's expiry; enter when allowed and none is live."""
        underlying = chain.snapshot.underlying
        if underlying not in self.underlyings:
            return []
        self.book.expire(underlying, chain.ts_event)
        outputs: list[Output] = []
        for group in self.book.groups_of(underlying):
            if group.expiry == chain.snapshot.expiry:
                outputs.extend(self._manage(group, context))
        if self.book.can_enter(underlying, chain.ts_event) and self.entry_allowed(context):
            outputs.extend(self._enter(context))
        return outputs

    def entry_allowed(self, ctx: StrategyContext) -> bool:
        """Whether this chain's expiry, time of day and the day's events admit an entry."""
        p = self.params
        days = ctx.view.minutes_to_expiry / 1_440
        return (
            not any(event.kind in p.no_entry_on_events for event in ctx.events)
            and p.min_days_to_expiry <= days <= p.max_days_to_expiry
            and ctx.view.minutes_to_expiry > p.exit_minutes_before_expiry
            and ctx.minutes_since_open >= p.entry_after_open_minutes
            and ctx.minutes_to_close >= p.entry_before_close_minutes
        )

    def on_position_opened(self, event: PositionOpened) -> None:
        """Attach the position to its group."""
        self.book.on_opened(event.position, event.ts_event)

    def on_position_updated(self, event: PositionUpdated) -> None:
        """Keep the group's copy of the position current."""
        self.book.on_updated(event.position)

    def on_position_closed(self, event: PositionClosed) -> None:
        """Drop the position; its group may end and the cooldown start."""
        self.book.on_closed(event.position_id, event.ts_event)

    def on_risk_decision(self, event: RiskDecision) -> None:
        """A rejection frees a pending entry or lets a refused close be retried."""
        if not event.approved:
            self.book.on_rejected(event.intent, event.ts_event)

    def _enter(self, ctx: StrategyContext) -> list[Output]:
        plan = self.plan_entry(ctx)
        if plan is None:
            return []
        opening = open_group(ctx, (self.name, self.kind), plan, self.params, role="entry")
        if opening is None or opening.model.ml_score < self.params.min_score:
            return []
        group = Group(
            group_id=opening.intent.group_id,
            underlying=ctx.view.underlying,
            expiry=ctx.view.expiry,
            signal_id=opening.signal.event_id,
            stamp=opening.model,
            phase="pending",
            since_ns=ctx.ts_ns,
            opened_ns=ctx.ts_ns,
        )
        self.book.start(group, opening.intent)
        return [opening.signal, opening.intent]

    def _manage(self, group: Group, ctx: StrategyContext) -> list[Output]:
        if group.phase == "pending" or not group.positions:
            return []
        if group.phase == "closing":
            retry_ns = int(self.params.close_retry_seconds * _NS_PER_SECOND)
            if ctx.ts_ns - group.since_ns < retry_ns:
                return []
            return self._close(group, ctx, group.close_reason or "retry")
        reason = self.exit_reason(group, ctx)
        if reason is not None:
            return self._close(group, ctx, reason)
        return self.adjust(group, ctx)

    def _close(self, group: Group, ctx: StrategyContext, reason: str) -> list[Output]:
        positions = list(group.positions.values())
        intent = close_positions(
            ctx, self.name, group, positions, self.params, reason=reason, role="close"
        )
        self.book.mark_closing(group, ctx.ts_ns, reason)
        return [intent]
