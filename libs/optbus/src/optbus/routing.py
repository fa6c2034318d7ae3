"""Where every event is published: one full subject per event, from its type and content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optbus import subjects
from optbus.events import (
    BrokerChargesReported,
    BrokerStateAdopted,
    ChainGreeks,
    CircuitBreakerTripped,
    DataQualityReported,
    DeadLetter,
    EndOfDay,
    Event,
    FeedDataIssue,
    Fill,
    KillSwitchEngaged,
    KillSwitchReleased,
    ModelPromoted,
    ModelTrained,
    OptionChainSnapshot,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderIntent,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    PositionSettled,
    PositionUpdated,
    RiskDecision,
    Signal,
    TradeClosed,
    VolatilityIndexTick,
)

_ROUTES: dict[type[Event], Callable[[Any], str]] = {
    OptionChainSnapshot: lambda e: subjects.md_chain(e.underlying, e.expiry),
    VolatilityIndexTick: lambda e: subjects.md_vix(e.index),
    FeedDataIssue: lambda e: subjects.md_feed_issue(e.broker),
    ChainGreeks: lambda e: subjects.greeks_chain(e.snapshot.underlying, e.snapshot.expiry),
    EndOfDay: lambda e: subjects.END_OF_DAY,
    DeadLetter: lambda e: subjects.dead_letter(e.original_subject),
    Signal: lambda e: subjects.strategy_signal(e.strategy, e.underlying),
    OrderIntent: lambda e: subjects.strategy_intent(e.strategy),
    RiskDecision: lambda e: subjects.risk_decision(e.intent.strategy),
    CircuitBreakerTripped: lambda e: subjects.RISK_CIRCUIT_BREAKER,
    Order: lambda e: subjects.exec_event("order.new"),
    OrderAccepted: lambda e: subjects.exec_event("order.accepted"),
    OrderRejected: lambda e: subjects.exec_event("order.rejected"),
    OrderCancelled: lambda e: subjects.exec_event("order.cancelled"),
    Fill: lambda e: subjects.exec_event("fill"),
    PositionOpened: lambda e: subjects.exec_event("position.opened"),
    PositionUpdated: lambda e: subjects.exec_event("position.updated"),
    PositionClosed: lambda e: subjects.exec_event("position.closed"),
    PositionSettled: lambda e: subjects.exec_event("position.settled"),
    TradeClosed: lambda e: subjects.exec_event("trade.closed"),
    BrokerStateAdopted: lambda e: subjects.RECONCILIATION_ADOPTED,
    BrokerChargesReported: lambda e: subjects.exec_event("charges.reported"),
    KillSwitchEngaged: lambda e: subjects.KILLSWITCH_ENGAGED,
    KillSwitchReleased: lambda e: subjects.KILLSWITCH_RELEASED,
    ModelTrained: lambda e: subjects.MODEL_TRAINED,
    ModelPromoted: lambda e: subjects.MODEL_PROMOTED,
    DataQualityReported: lambda e: subjects.DATA_QUALITY,
}


def subject_of(event: Event) -> str:
    """The full subject ``event`` is published on."""
    route = _ROUTES.get(type(event))
    if route is None:
        raise TypeError(f"no subject for {type(event).__name__}")
    return route(event)
