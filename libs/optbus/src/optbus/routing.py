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

Route = tuple[str, Callable[[Any], str]]
"""Where a type of event goes: the pattern all its subjects match, and its subject."""


def _fixed(subject: str) -> Route:
    """A type of event always published on one subject, which is its pattern too."""
    return subject, lambda _: subject


_ROUTES: dict[type[Event], Route] = {
    OptionChainSnapshot: ("md.chain.*.*", lambda e: subjects.md_chain(e.underlying, e.expiry)),
    VolatilityIndexTick: ("md.vix.*", lambda e: subjects.md_vix(e.index)),
    FeedDataIssue: ("md.feed.issue.*", lambda e: subjects.md_feed_issue(e.broker)),
    ChainGreeks: (
        "greeks.chain.*.*",
        lambda e: subjects.greeks_chain(e.snapshot.underlying, e.snapshot.expiry),
    ),
    EndOfDay: _fixed(subjects.END_OF_DAY),
    DeadLetter: (
        f"{subjects.DEAD_LETTER_PREFIX}.>",
        lambda e: subjects.dead_letter(e.original_subject),
    ),
    Signal: ("strategy.signal.*.*", lambda e: subjects.strategy_signal(e.strategy, e.underlying)),
    OrderIntent: ("strategy.intent.*", lambda e: subjects.strategy_intent(e.strategy)),
    RiskDecision: ("risk.decision.*", lambda e: subjects.risk_decision(e.intent.strategy)),
    CircuitBreakerTripped: _fixed(subjects.RISK_CIRCUIT_BREAKER),
    Order: _fixed(subjects.exec_event("order.new")),
    OrderAccepted: _fixed(subjects.exec_event("order.accepted")),
    OrderRejected: _fixed(subjects.exec_event("order.rejected")),
    OrderCancelled: _fixed(subjects.exec_event("order.cancelled")),
    Fill: _fixed(subjects.exec_event("fill")),
    PositionOpened: _fixed(subjects.exec_event("position.opened")),
    PositionUpdated: _fixed(subjects.exec_event("position.updated")),
    PositionClosed: _fixed(subjects.exec_event("position.closed")),
    PositionSettled: _fixed(subjects.exec_event("position.settled")),
    TradeClosed: _fixed(subjects.exec_event("trade.closed")),
    BrokerStateAdopted: _fixed(subjects.RECONCILIATION_ADOPTED),
    BrokerChargesReported: _fixed(subjects.exec_event("charges.reported")),
    KillSwitchEngaged: _fixed(subjects.KILLSWITCH_ENGAGED),
    KillSwitchReleased: _fixed(subjects.KILLSWITCH_RELEASED),
    ModelTrained: _fixed(subjects.MODEL_TRAINED),
    ModelPromoted: _fixed(subjects.MODEL_PROMOTED),
    DataQualityReported: _fixed(subjects.DATA_QUALITY),
}
"""Each type of event: the pattern every subject it is published on matches (what a service's
declared ``publishes`` is compared with to know which types it may publish), and its subject."""


def subject_pattern_of(event_type: type[Event]) -> str:
    """The pattern every subject ``event_type`` is published on matches."""
    return _ROUTES[event_type][0]


def types_published_within(patterns: Iterable[str]) -> list[type[Event]]:
    """The event types whose every subject lies within one of ``patterns`` (a service's
    declared ``publishes``), in routing order."""
    wanted = tuple(patterns)
    return [
        event_type
        for event_type, (pattern, _) in _ROUTES.items()
        if any(subjects.pattern_within(pattern, outer) for outer in wanted)
    ]


def subject_of(event: Event) -> str:
    """The full subject ``event`` is published on."""
    route = _ROUTES.get(type(event))
    if route is None:
        raise TypeError(f"no subject for {type(event).__name__}")
    return route[1](event)
