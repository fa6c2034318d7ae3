"""The circuit breaker: today's P&L (realised plus unrealised), its drawdown and losing streak,
and when they halt trading.

Today's P&L is marked to market: the net P&L of the trades closed today, plus the unrealised
P&L of the open positions now, less what those positions were already worth at the start of
the day (so a position carried overnight counts only today's change). The drawdown is how far
today's P&L has fallen from its highest point today.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from optbus.clock import Clock
from optbus.events import CircuitBreakerTripped, TradeClosed
from optbus.ids import derived_event_id
from optbus.market import MarketFacts
from optbus_risk.config import RiskConfig


@dataclass(frozen=True, slots=True)
class DailyPnl:
    """One trading day's P&L, losing streak, and the breaker's trip (if any).

    ``realised`` is the net P&L of today's closed trades; ``unrealised`` that of the open
    positions at their latest marks, ``opening_unrealised`` what it was as the day began;
    ``peak`` the highest ``total`` seen today.
    """

    day: date | None = None
    realised: float = 0.0
    consecutive_losses: int = 0
    tripped_reason: str | None = None
    unrealised: float = 0.0
    opening_unrealised: float = 0.0
    peak: float = 0.0

    @property
    def total(self) -> float:
        """Today's P&L marked to market: realised plus today's change in unrealised."""
        return self.realised + self.unrealised - self.opening_unrealised

    @property
    def drawdown(self) -> float:
        """How far today's P&L is below its highest point today (0 or more)."""
        return max(0.0, self.peak - self.total)

    def on(self, day: date) -> DailyPnl:
        """This record if it is ``day``'s, else a fresh one: every day starts untripped, with
        the open positions' unrealised P&L as its starting point."""
        if self.day == day:
            return self
        return DailyPnl(day=day, unrealised=self.unrealised, opening_unrealised=self.unrealised)

    def marked(self, unrealised: float) -> DailyPnl:
        """This record with the open positions' unrealised P&L now ``unrealised``."""
        updated = replace(self, unrealised=unrealised)
        return replace(updated, peak=max(updated.peak, updated.total))


def loss_limit(config: RiskConfig) -> float:
    """The largest loss allowed in a day, in rupees (a positive number)."""
    return config.circuit_breaker.max_daily_loss_pct / 100 * config.capital


def drawdown_limit(config: RiskConfig) -> float:
    """The largest fall of today's P&L from its peak, in rupees (a positive number)."""
    return config.circuit_breaker.max_drawdown_pct / 100 * config.capital


def breach(pnl: DailyPnl, config: RiskConfig) -> str | None:
    """Why the breaker is (or must be) tripped for ``pnl``'s day, or None when it holds."""
    if pnl.tripped_reason is not None:
        return pnl.tripped_reason
    limit = loss_limit(config)
    if pnl.total <= -limit:
        return (
            f"daily loss {pnl.total:,.2f} (realised {pnl.realised:,.2f}, unrealised change "
            f"{pnl.unrealised - pnl.opening_unrealised:,.2f}) reached the limit -{limit:,.2f} "
            f"({config.circuit_breaker.max_daily_loss_pct}% of capital)"
        )
    drawdown = drawdown_limit(config)
    if pnl.drawdown >= drawdown:
        return (
            f"drawdown {pnl.drawdown:,.2f} from today's peak {pnl.peak:,.2f} reached the limit "
            f"{drawdown:,.2f} ({config.circuit_breaker.max_drawdown_pct}% of capital)"
        )
    streak = config.circuit_breaker.max_consecutive_losses
    if pnl.consecutive_losses >= streak:
        return f"{pnl.consecutive_losses} consecutive losing trades (limit {streak})"
    return None


def record_trade(
    pnl: DailyPnl, trade: TradeClosed, config: RiskConfig, facts: MarketFacts, clock: Clock
) -> tuple[DailyPnl, tuple[CircuitBreakerTripped, ...]]:
    """Fold a closed trade into its day's P&L; emit CircuitBreakerTripped the first time only.

    A trade of a day before the one on record is too late to matter and is ignored.
    """
    day = facts.local_date(trade.ts_event)
    if pnl.day is not None and day < pnl.day:
        return pnl, ()
    today = pnl.on(day)
    lost = trade.net_pnl < 0
    updated = replace(
        today,
        realised=today.realised + trade.net_pnl,
        consecutive_losses=today.consecutive_losses + 1 if lost else 0,
    ).marked(today.unrealised)
    return _tripped_if_breached(updated, trade.event_id, trade.ts_event, config, clock)


def record_marks(
    pnl: DailyPnl,
    unrealised: float,
    trigger: tuple[str, int],
    config: RiskConfig,
    facts: MarketFacts,
    clock: Clock,
) -> tuple[DailyPnl, tuple[CircuitBreakerTripped, ...]]:
    """Fold the open positions' new unrealised P&L (marked on the chain ``trigger``, its id and
    time) into its day; emit CircuitBreakerTripped the first time a limit is reached."""
    event_id, ts_ns = trigger
    day = facts.local_date(ts_ns)
    if pnl.day is not None and day < pnl.day:
        return pnl, ()
    updated = pnl.on(day).marked(unrealised)
    return _tripped_if_breached(updated, event_id, ts_ns, config, clock)


def _tripped_if_breached(
    pnl: DailyPnl, trigger_id: str, ts_ns: int, config: RiskConfig, clock: Clock
) -> tuple[DailyPnl, tuple[CircuitBreakerTripped, ...]]:
    if pnl.tripped_reason is not None:
        return pnl, ()
    reason = breach(pnl, config)
    if reason is None:
        return pnl, ()
    tripped = replace(pnl, tripped_reason=reason)
    event = CircuitBreakerTripped(
        event_id=derived_event_id(trigger_id, "risk.circuit_breaker"),
        ts_event=ts_ns,
        ts_init=clock.now_ns(),
        reason=reason,
        daily_pnl=tripped.total,
        consecutive_losses=tripped.consecutive_losses,
    )
    return tripped, (event,)


def record_trip(pnl: DailyPnl, event: CircuitBreakerTripped, facts: MarketFacts) -> DailyPnl:
    """Fold a CircuitBreakerTripped from the log (a restart replaying today's events)."""
    day = facts.local_date(event.ts_event)
    if pnl.day is not None and day < pnl.day:
        return pnl
    today = pnl.on(day)
    if today.tripped_reason is not None:
        return today
    return replace(today, tripped_reason=event.reason)
