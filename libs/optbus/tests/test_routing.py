from datetime import date

import pytest

from optbus import subjects
from optbus.events import (
    ChainGreeks,
    DeadLetter,
    KillSwitchEngaged,
    OptionChainSnapshot,
    OrderIntent,
    RiskDecision,
    Signal,
)
from optbus.routing import subject_pattern_of, types_published_within

EXPIRY = date(2026, 12, 10)


@pytest.mark.parametrize(
    ("event_type", "subject"),
    [
        (OptionChainSnapshot, subjects.md_chain("NIFTY", EXPIRY)),
        (ChainGreeks, subjects.greeks_chain("BANKNIFTY", EXPIRY)),
        (Signal, subjects.strategy_signal("strangle", "NIFTY")),
        (OrderIntent, subjects.strategy_intent("strangle")),
        (RiskDecision, subjects.risk_decision("strangle")),
        (DeadLetter, subjects.dead_letter(subjects.md_chain("NIFTY", EXPIRY))),
    ],
)
def test_an_events_subject_matches_its_types_pattern(event_type: type, subject: str) -> None:
    assert subjects.subject_matches(subject_pattern_of(event_type), subject)


def test_the_types_a_service_publishes_are_those_its_declared_subjects_hold() -> None:
    published = types_published_within(["risk.>", subjects.KILLSWITCH_ENGAGED])

    assert RiskDecision in published
    assert KillSwitchEngaged in published
    assert OrderIntent not in published
