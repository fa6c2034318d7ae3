"""Where every event is published: one full subject per event, from its type and content."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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

_SUBJECT_PATTERNS: dict[type[Event], str] = {
    OptionChainSnapshot: "md.chain.*.*",
    VolatilityIndexTick: "md.vix.*",
    FeedDataIssue: "md.feed.issue.*",
    ChainGreeks: "greeks.chain.*.*",
    EndOfDay: subjects.END_OF_DAY,
    DeadLetter: f"{subjects.DEAD_LETTER_PREFIX}.>",
    Signal: "strategy.signal.*.*",
    OrderIntent: "strategy.intent.*",
    RiskDecision: "risk.decision.*",
    CircuitBreakerTripped: subjects.RISK_CIRCUIT_BREAKER,
    Order: subjects.exec_event("order.new"),
    OrderAccepted: subjects.exec_event("order.accepted"),
    OrderRejected: subjects.exec_event("order.rejected"),
    OrderCancelled: subjects.exec_event("order.cancelled"),
    Fill: subjects.exec_event("fill"),
    PositionOpened: subjects.exec_event("position.opened"),
    PositionUpdated: subjects.exec_event("position.updated"),
    PositionClosed: subjects.exec_event("position.closed"),
    PositionSettled: subjects.exec_event("position.settled"),
    TradeClosed: subjects.exec_event("trade.closed"),
    BrokerStateAdopted: subjects.RECONCILIATION_ADOPTED,
    BrokerChargesReported: subjects.exec_event("charges.reported"),
    KillSwitchEngaged: subjects.KILLSWITCH_ENGAGED,
    KillSwitchReleased: subjects.KILLSWITCH_RELEASED,
    ModelTrained: subjects.MODEL_TRAINED,
    ModelPromoted: subjects.MODEL_PROMOTED,
    DataQualityReported: subjects.DATA_QUALITY,
}
"""The subjects each type of event is published on, as a pattern: what a service's declared
``publishes`` is compared with to know which types it may publish."""


def subject_pattern_of(event_type: type[Event]) -> str:
    """The pattern every subject ``event_type`` is published on matches."""
    return _SUBJECT_PATTERNS[event_type]


def types_published_within(patterns: Iterable[str]) -> list[type[Event]]:
    """The event types whose every subject lies within one of ``patterns`` (a service's
    declared ``publishes``), in routing order."""
    wanted = tuple(patterns)
    return [
        event_type
        for event_type, pattern in _SUBJECT_PATTERNS.items()
        if any(subjects.pattern_within(pattern, outer) for outer in wanted)
    ]


def subject_of(event: Event) -> str:
    """The full subject ``event`` is published on."""
    route = _ROUTES.get(type(event))
    if route is None:
        raise TypeError(f"no subject for {type(event).__name__}")
    return route(event)
