"""What the risk checks know, as immutable values folded from events (see ``fold``).

Every collection is read-only by convention: the fold never mutates one, it builds the next
state with copies, so any state a caller holds stays valid forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import date

from optbus.events import ChainGreeks, Contract, Position, Side
from optbus.quotes import ChainKey, OptionQuote
from optbus_risk.circuit import DailyPnl
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.marking import Mark
from optbus_risk.quotes import Marks

LegKey = tuple[Contract, Side]
"""A working quantity's identity within an intent: the contract and the side."""


@dataclass(frozen=True, slots=True)
class OrderWindow:
    """Orders recently sent to one exchange segment: (time ns, order count), oldest first.

    Times never go backwards: an intent stamped earlier than the last order counts as sent at
    the last order's time, so the sliding window is exact and never undercounts.
    """

    stamps: tuple[tuple[int, int], ...] = ()

    def effective_time(self, ts_ns: int) -> int:
        """When an order stamped ``ts_ns`` counts as sent (never before the last order)."""
        return max(ts_ns, self.stamps[-1][0]) if self.stamps else ts_ns

    def count_within(self, ts_ns: int, window_ns: int) -> int:
        """Orders in the window that ends when an order stamped ``ts_ns`` would count as sent."""
        at = self.effective_time(ts_ns)
        return sum(count for stamp, count in self.stamps if stamp > at - window_ns)

    def record(self, ts_ns: int, count: int, window_ns: int) -> OrderWindow:
        """The window with ``count`` more orders sent at ``ts_ns``; stamps out of reach dropped."""
        at = self.effective_time(ts_ns)
        kept = tuple((stamp, n) for stamp, n in self.stamps if stamp > at - window_ns)
        return OrderWindow(stamps=(*kept, (at, count)))


@dataclass(frozen=True, slots=True)
class WorkingIntent:
    """An approved intent not yet done: the quantity still to fill per contract and side."""

    intent_id: str
    purpose: str
    position_ids: tuple[str, ...]
    day: date
    remaining: Mapping[LegKey, int]

    @property
    def done(self) -> bool:
        """Whether nothing is left to fill."""
        return all(quantity <= 0 for quantity in self.remaining.values())


@dataclass(frozen=True, slots=True)
class OrderRef:
    """An exchange order of a working intent and its quantity not yet filled."""

    intent_id: str
    contract: Contract
    side: Side
    remaining: int


@dataclass(frozen=True, slots=True)
class PendingClose:
    """A close the monitor has asked for and that is not done yet.

    ``rejections`` counts the monitor's closes of the position that risk refused in a row; it
    sets how long the monitor waits before it asks again (see ``monitor.retry_after_ns``).
    """

    intent_id: str
    ts_ns: int
    rejections: int = 0


class _IdLog:
    """The ids of a line of ``SeenIds`` in the order they were added, with their positions."""

    __slots__ = ("index", "order")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self.order: list[str] = []
        self.index: dict[str, int] = {}
        for intent_id in ids:
            self.append(intent_id)

    def append(self, intent_id: str) -> None:
        self.index[intent_id] = len(self.order)
        self.order.append(intent_id)


@dataclass(frozen=True, slots=True, eq=False)
class SeenIds(Set[str]):
    """The intent ids decided today: an immutable set whose ``with_id`` is O(1) amortised.

    Successive sets share one append-only log and each sees only its first ``size`` ids, so a
    set a caller holds never changes. Adding to a set that is not the newest of its log (two
    states evolved from one) copies its prefix first, the only case that costs O(n).
    """

    _log: _IdLog = field(default_factory=_IdLog)
    _size: int = 0

    @classmethod
    def of(cls, ids: Iterable[str]) -> SeenIds:
        """A set holding ``ids``."""
        log = _IdLog(dict.fromkeys(ids))
        return cls(log, len(log.order))

    def __contains__(self, item: object) -> bool:
        position = self._log.index.get(item) if isinstance(item, str) else None
        return position is not None and position < self._size

    def __iter__(self) -> Iterator[str]:
        return iter(self._log.order[: self._size])

    def __len__(self) -> int:
        return self._size

    def with_id(self, intent_id: str) -> SeenIds:
        """This set and ``intent_id``."""
        if intent_id in self:
            return self
        log = self._log
        if len(log.order) != self._size:
            log = _IdLog(log.order[: self._size])
        log.append(intent_id)
        return SeenIds(log, self._size + 1)


@dataclass(frozen=True, slots=True)
class RiskState:
    """Everything the checks and the monitor read: positions, quotes, P&L, orders, switches.

    ``position_marks`` holds each open position's latest mark (see ``marking``), from which
    ``pnl`` carries the unrealised P&L. ``delisted_quotes`` keeps the last quote of each
    contract a chain stopped listing (until it expires), so a position in it can still be
    marked.

    Build the first one with ``RiskState.initial(kill_switch)``: the caller must say what it
    knows of the kill switch (``KillSwitchState.unknown()`` when it could not read it).
    """

    kill_switch: KillSwitchState
    positions: Mapping[str, Position] = field(default_factory=dict)
    chains: Mapping[ChainKey, ChainGreeks] = field(default_factory=dict)
    pnl: DailyPnl = field(default_factory=DailyPnl)
    order_windows: Mapping[str, OrderWindow] = field(default_factory=dict)
    working: Mapping[str, WorkingIntent] = field(default_factory=dict)
    orders: Mapping[str, OrderRef] = field(default_factory=dict)
    seen_intents: SeenIds = field(default_factory=SeenIds)
    seen_day: date | None = None
    pending_closes: Mapping[str, PendingClose] = field(default_factory=dict)
    delisted_quotes: Mapping[Contract, OptionQuote] = field(default_factory=dict)
    position_marks: Mapping[str, Mark] = field(default_factory=dict)

    @classmethod
    def initial(cls, kill_switch: KillSwitchState) -> RiskState:
        """An empty state with the kill switch as the caller found it."""
        return cls(kill_switch=kill_switch)

    @property
    def marks(self) -> Marks:
        """Where the checks read a contract's quote: its latest chain, else its last one."""
        return Marks(chains=self.chains, delisted=self.delisted_quotes)

    def order_window(self, segment: str) -> OrderWindow:
        """The recent orders of ``segment`` (empty when none)."""
        return self.order_windows.get(segment, OrderWindow())

    def working_legs(self) -> list[tuple[Contract, int]]:
        """Approved quantities not yet filled, signed (buys positive), one entry per leg."""
        legs: list[tuple[Contract, int]] = []
        for working in self.working.values():
            for (contract, side), quantity in working.remaining.items():
                if quantity > 0:
                    legs.append((contract, quantity if side == "BUY" else -quantity))
        return legs

    def closing(self, position_id: str) -> bool:
        """Whether an approved close naming ``position_id`` is still working."""
        return any(
            working.purpose == "close" and position_id in working.position_ids
            for working in self.working.values()
        )
