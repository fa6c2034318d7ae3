"""The circuit breaker: today's realised P&L and losing streak, and when they halt trading."""

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
    """One trading day's realised net P&L, losing streak, and the breaker's trip (if any)."""

    day: date | None = None
    realised: float = 0.0
    consecutive_losses: int = 0
    tripped_reason: str | None = None

    def on(self, day: date) -> DailyPnl:
        """This record if it is ``day``'s, else a fresh one: every day starts untripped."""
        return self if self.day == day else DailyPnl(day=day)


def loss_limit(config: RiskConfig) -> float:
    """The largest realised loss allowed in a day, in rupees (a positive number)."""
    return config.circuit_breaker.max_daily_loss_pct / 100 * config.capital


def breach(pnl: DailyPnl, config: RiskConfig) -> str | None:
    """Why the breaker is (or must be) tripped for ``pnl``'s day, or None when it holds."""
    if pnl.tripped_reason is not None:
        return pnl.tripped_reason
    limit = loss_limit(config)
    if pnl.realised <= -limit:
        return (
            f"daily loss {pnl.realised:,.2f} reached the limit -{limit:,.2f} "
            f"({config.circuit_breaker.max_daily_loss_pct}% of capital)"
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
    )
    if updated.tripped_reason is not None:
        return updated, ()
    reason = breach(updated, config)
    if reason is None:
        return updated, ()
    tripped = replace(updated, tripped_reason=reason)
    event = CircuitBreakerTripped(
        event_id=derived_event_id(trade.event_id, "risk.circuit_breaker"),
        ts_event=trade.ts_event,
        ts_init=clock.now_ns(),
        reason=reason,
        daily_pnl=tripped.realised,
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
