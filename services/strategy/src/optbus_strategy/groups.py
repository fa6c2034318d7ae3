"""One strategy's trade groups: at most one per underlying, its life cycle and cooldowns.

A group is born *pending* when its entry intent is emitted, becomes *open* with its first
position, *closing* when a close intent is emitted, and ends when its last position closes
(or when a pending entry opens nothing within the timeout, or risk rejects it). The end of a
group starts the underlying's cooldown, during which the strategy does not enter again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from optbus.events import Contract, ModelStamp, OrderIntent, Position

Phase = Literal["pending", "open", "closing"]


class Marks(Protocol):
    """Where a group's legs get their marks and deltas: one chain (``ChainView``), or the
    latest chains of every expiry of the underlying (``StrategyContext``)."""

    def mark(self, contract: Contract) -> float | None:
        """The contract's fair price now, or None."""
        ...

    def delta(self, contract: Contract) -> float | None:
        """The contract's delta now, or None."""
        ...


@dataclass(slots=True)
class Group:
    """A strategy's trade on one underlying and expiry: its positions, phase and provenance."""

    group_id: str
    underlying: str
    expiry: date
    signal_id: str | None
    stamp: ModelStamp | None
    phase: Phase
    since_ns: int
    opened_ns: int
    open_intents: dict[str, int] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    adjustments: int = 0
    last_adjust_ns: int = 0
    close_reason: str = ""

    def net_premium(self) -> float:
        """Premium paid (positive, a debit) or received (negative, a credit), in rupees; a
        future (a hedge) pays no premium and counts for none."""
        return float(
            sum(
                p.quantity * p.average_price
                for p in self.positions.values()
                if p.contract.option_type != "FUT"
            )
        )

    def pnl(self, marks: Marks) -> float | None:
        """Mark-to-market P&L in rupees at ``marks``; None if a leg has no mark."""
        total = 0.0
        for position in self.positions.values():
            mark = marks.mark(position.contract)
            if mark is None:
                return None
            total += position.quantity * (mark - position.average_price)
        return total

    def net_delta(self, marks: Marks) -> float | None:
        """Delta in units of the underlying; None if a leg has no delta."""
        total = 0.0
        for position in self.positions.values():
            delta = marks.delta(position.contract)
            if delta is None:
                return None
            total += position.quantity * delta
        return total


class GroupBook:
    """The groups and cooldowns of one strategy.

    The strategy starts at most one group per underlying at a time; a position of a group it
    no longer knows (a fill after the entry timed out, or after a restart) is adopted as a
    group of its own, so that it is managed and closed like any other.
    """

    def __init__(self, cooldown_ns: int, pending_timeout_ns: int) -> None:
        self._cooldown_ns = cooldown_ns
        self._pending_timeout_ns = pending_timeout_ns
        self._groups: dict[str, Group] = {}
        self._cooldown_until: dict[str, int] = {}
        self._position_group: dict[str, str] = {}

    def groups_of(self, underlying: str) -> list[Group]:
        """The underlying's live groups, oldest first."""
        return [g for g in self._groups.values() if g.underlying == underlying]

    def can_enter(self, underlying: str, ts_ns: int) -> bool:
        """Whether a new group may start: none live on the underlying and its cooldown over."""
        cooled = ts_ns >= self._cooldown_until.get(underlying, ts_ns)
        return cooled and not self.groups_of(underlying)

    def start(self, group: Group, intent: OrderIntent) -> None:
        """Record a new pending group and its entry intent."""
        group.open_intents[intent.intent_id] = intent.ts_event
        self._groups[group.group_id] = group

    def expect(self, group: Group, intent: OrderIntent) -> None:
        """Record a further open intent (an adjustment) of a live group."""
        group.open_intents[intent.intent_id] = intent.ts_event

    def expire(self, underlying: str, ts_ns: int) -> None:
        """Forget open intents past the timeout; end groups left with nothing open or expected."""
        deadline = ts_ns - self._pending_timeout_ns
        for group in self.groups_of(underlying):
            group.open_intents = {i: t for i, t in group.open_intents.items() if t > deadline}
            if not group.positions and not group.open_intents:
                self.finish(group, ts_ns)

    def on_opened(self, position: Position, ts_ns: int) -> None:
        """Attach a new position to its group (adopting it when the group is unknown)."""
        group = self._groups.get(position.group_id) or self._adopt(position, ts_ns)
        group.positions[position.position_id] = position
        if group.phase == "pending":
            group.phase, group.since_ns = "open", ts_ns
        self._position_group[position.position_id] = group.group_id

    def on_updated(self, position: Position) -> None:
        """Replace a known position with its new state."""
        group = self._groups.get(self._position_group.get(position.position_id, ""))
        if group is not None:
            group.positions[position.position_id] = position

    def on_closed(self, position_id: str, ts_ns: int) -> None:
        """Drop a closed position; end its group when nothing is left open or expected."""
        group = self._groups.get(self._position_group.pop(position_id, ""))
        if group is None:
            return
        group.positions.pop(position_id, None)
        if not group.positions and (group.phase == "closing" or not group.open_intents):
            self.finish(group, ts_ns)

    def on_rejected(self, intent: OrderIntent, ts_ns: int) -> None:
        """Risk refused an intent: forget an entry, or let a refused close be retried."""
        group = self._groups.get(intent.group_id)
        if group is None:
            return
        if intent.purpose == "close":
            group.phase, group.since_ns = "open", ts_ns
            return
        group.open_intents.pop(intent.intent_id, None)
        if not group.positions and not group.open_intents:
            self.finish(group, ts_ns)

    def mark_closing(self, group: Group, ts_ns: int, reason: str) -> None:
        """The group's close intent, for ``reason``, was emitted at ``ts_ns``."""
        group.phase, group.since_ns, group.close_reason = "closing", ts_ns, reason

    def finish(self, group: Group, ts_ns: int) -> None:
        """End a group and start its underlying's cooldown."""
        self._groups.pop(group.group_id, None)
        for position_id in group.positions:
            self._position_group.pop(position_id, None)
        self._cooldown_until[group.underlying] = ts_ns + self._cooldown_ns

    def _adopt(self, position: Position, ts_ns: int) -> Group:
        group = Group(
            group_id=position.group_id,
            underlying=position.contract.underlying,
            expiry=position.contract.expiry,
            signal_id=None,
            stamp=position.model,
            phase="open",
            since_ns=ts_ns,
            opened_ns=ts_ns,
        )
        self._groups[group.group_id] = group
        return group
