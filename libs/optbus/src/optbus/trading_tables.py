"""Pure mapping of trading events to rows of the trading tables (signals, orders, trades, ...).

Persistence writes these rows and the trainer counts what they would hold (its data-quality
report must agree with the database), so both take them from here. The rows are plain Python
values: the JSON columns hold JSON-able values, which the writer adapts to its database driver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optbus.events import (
    BrokerChargesReported,
    CircuitBreakerTripped,
    Contract,
    Event,
    Fill,
    KillSwitchEngaged,
    KillSwitchReleased,
    MarketContext,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
    Signal,
    TradeClosed,
)
from optbus.timestamps import datetime_from_ns

JSON_COLUMNS = frozenset({"features", "checks"})
"""The columns of the trading tables that are jsonb; their values here are plain JSON-able ones."""


@dataclass(frozen=True)
class TableRow:
    """One row for one trading table."""

    table: str
    values: dict[str, Any]


def _contract(contract: Contract) -> dict[str, Any]:
    return {
        "underlying": contract.underlying, "expiry": contract.expiry,
        "strike": contract.strike, "option_type": contract.option_type,
    }  # fmt: skip


def _context(prefix: str, context: MarketContext) -> dict[str, Any]:
    return {
        f"{prefix}_time": datetime_from_ns(context.ts), f"{prefix}_price": context.option_price,
        f"{prefix}_iv": context.iv, f"{prefix}_delta": context.delta,
        f"{prefix}_gamma": context.gamma, f"{prefix}_theta": context.theta,
        f"{prefix}_vega": context.vega, f"{prefix}_spot": context.spot,
        f"{prefix}_forward": context.forward, f"{prefix}_india_vix": context.india_vix,
        f"{prefix}_pcr": context.pcr, f"{prefix}_open_interest": context.open_interest,
    }  # fmt: skip


def _signal(event: Signal) -> dict[str, Any]:
    return {
        "strategy": event.strategy, "underlying": event.underlying, "expiry": event.expiry,
        "strength": event.strength, "ml_score": event.model.ml_score,
        "model_version": event.model.model_version, "model_hash": event.model.model_hash,
        "features": event.model.features,
    }  # fmt: skip


def _decision(event: RiskDecision) -> dict[str, Any]:
    return {
        "intent_id": event.intent.intent_id, "group_id": event.intent.group_id,
        "strategy": event.intent.strategy, "purpose": event.intent.purpose,
        "approved": event.approved, "failed_checks": [c.name for c in event.failures],
        "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail}
                   for c in event.checks],
        "margin_required": event.margin_required,
    }  # fmt: skip


def _order(event: Order) -> dict[str, Any]:
    return {
        "client_order_id": event.client_order_id, "algo_id": event.algo_id,
        "intent_id": event.intent_id, "group_id": event.group_id, "strategy": event.strategy,
        "purpose": event.purpose, **_contract(event.contract), "side": event.side,
        "quantity": event.quantity, "order_type": event.order_type,
        "limit_price": event.limit_price,
    }  # fmt: skip


def _order_update(status: str) -> Callable[[Any], dict[str, Any]]:
    def values(event: OrderAccepted | OrderRejected | OrderCancelled) -> dict[str, Any]:
        detail = event.broker_order_id if isinstance(event, OrderAccepted) else event.reason
        return {"client_order_id": event.client_order_id, "status": status, "detail": detail}

    return values


def _fill(event: Fill) -> dict[str, Any]:
    c = event.charges
    return {
        "fill_id": event.fill_id, "client_order_id": event.client_order_id,
        **_contract(event.contract), "side": event.side, "quantity": event.quantity,
        "price": event.price, "bid": event.bid, "ask": event.ask, "brokerage": c.brokerage,
        "stt": c.stt, "exchange_transaction": c.exchange_transaction, "sebi": c.sebi,
        "stamp_duty": c.stamp_duty, "gst": c.gst, "total_charges": c.total,
    }  # fmt: skip


def _broker_charges(event: BrokerChargesReported) -> dict[str, Any]:
    b = event.broker
    return {
        "client_order_id": event.client_order_id, "broker_order_id": event.broker_order_id,
        "venue": event.venue, "brokerage": b.brokerage, "stt": b.stt,
        "exchange_transaction": b.exchange_transaction, "sebi": b.sebi,
        "stamp_duty": b.stamp_duty, "gst": b.gst, "broker_total": b.total,
        "optbus_total": event.optbus.total, "difference": event.difference,
        "flagged": event.flagged,
    }  # fmt: skip


def _position(change: str) -> Callable[[Any], dict[str, Any]]:
    def values(event: PositionOpened | PositionUpdated | PositionClosed) -> dict[str, Any]:
        if isinstance(event, PositionClosed):
            return {"change": change, "position_id": event.position_id}
        p = event.position
        return {
            "change": change, "position_id": p.position_id, "strategy": p.strategy,
            **_contract(p.contract), "quantity": p.quantity, "average_price": p.average_price,
            "charges": p.charges,
        }  # fmt: skip

    return values


def _trade(event: TradeClosed) -> dict[str, Any]:
    model = event.model
    return {
        "trade_id": event.trade_id, "position_id": event.position_id,
        "strategy": event.strategy, "group_id": event.group_id, **_contract(event.contract),
        "quantity": event.quantity, **_context("entry", event.entry),
        **_context("exit", event.exit), "entry_price": event.entry_price,
        "exit_price": event.exit_price,
        "model_version": model.model_version if model else None,
        "model_hash": model.model_hash if model else None,
        "features": model.features if model else None,
        "exit_reason": event.exit_reason, "gross_pnl": event.gross_pnl,
        "charges": event.charges, "net_pnl": event.net_pnl, "exit_kind": event.exit_kind,
    }  # fmt: skip


def _kill_switch(event: KillSwitchEngaged | KillSwitchReleased) -> dict[str, Any]:
    flatten = event.flatten if isinstance(event, KillSwitchEngaged) else False
    return {
        "action": "engage" if isinstance(event, KillSwitchEngaged) else "release",
        "operator": event.operator, "reason": event.reason, "flatten": flatten,
    }  # fmt: skip


def _breaker(event: CircuitBreakerTripped) -> dict[str, Any]:
    return {
        "reason": event.reason, "daily_pnl": event.daily_pnl,
        "consecutive_losses": event.consecutive_losses,
    }  # fmt: skip


_MAPPERS: dict[type[Event], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    Signal: ("signals", _signal),
    RiskDecision: ("risk_decisions", _decision),
    Order: ("orders", _order),
    OrderAccepted: ("order_updates", _order_update("accepted")),
    OrderRejected: ("order_updates", _order_update("rejected")),
    OrderCancelled: ("order_updates", _order_update("cancelled")),
    Fill: ("fills", _fill),
    BrokerChargesReported: ("broker_charges", _broker_charges),
    PositionOpened: ("positions", _position("opened")),
    PositionUpdated: ("positions", _position("updated")),
    PositionClosed: ("positions", _position("closed")),
    TradeClosed: ("trades", _trade),
    KillSwitchEngaged: ("kill_switch_events", _kill_switch),
    KillSwitchReleased: ("kill_switch_events", _kill_switch),
    CircuitBreakerTripped: ("circuit_breaker_trips", _breaker),
}


def trading_row(event: object) -> TableRow | None:
    """The trading-table row of ``event``, or None when it has no trading table."""
    mapping = _MAPPERS.get(type(event))  # type: ignore[arg-type]
    if mapping is None or not isinstance(event, Event):
        return None
    table, values = mapping
    return TableRow(
        table, {"time": datetime_from_ns(event.ts_event), "event_id": event.event_id,
                **values(event)},
    )  # fmt: skip
