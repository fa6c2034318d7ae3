"""The figures a run prints: trades, P&L, charges, win rate, activity counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from optbus.events import Event, Fill, Order, OrderIntent, Signal, TradeClosed


@dataclass(frozen=True, slots=True)
class TradeSummary:
    """What the trade log adds up to (money in rupees)."""

    signals: int
    intents: int
    orders: int
    fills: int
    trades: int
    wins: int
    gross_pnl: float
    charges: float
    net_pnl: float

    @property
    def win_rate(self) -> float:
        """The share of closed trades with a positive net P&L (0 without trades)."""
        return self.wins / self.trades if self.trades else 0.0


def summarise(events: Iterable[Event]) -> TradeSummary:
    """Count and add up a trade log."""
    counts = {Signal: 0, OrderIntent: 0, Order: 0, Fill: 0}
    trades: list[TradeClosed] = []
    for event in events:
        kind = type(event)
        if kind in counts:
            counts[kind] += 1
        elif isinstance(event, TradeClosed):
            trades.append(event)
    return TradeSummary(
        signals=counts[Signal],
        intents=counts[OrderIntent],
        orders=counts[Order],
        fills=counts[Fill],
        trades=len(trades),
        wins=sum(1 for t in trades if t.net_pnl > 0),
        gross_pnl=sum(t.gross_pnl for t in trades),
        charges=sum(t.charges for t in trades),
        net_pnl=sum(t.net_pnl for t in trades),
    )
