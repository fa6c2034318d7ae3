"""The check runner: runs every pre-trade check on an intent and returns a RiskDecision.

An approval carries the margin the intent adds to the book, which a live broker's available
margin is checked against before the intent's opening orders go.

Pure and fail closed: an intent is approved only when every check ran and passed; a check that
raises counts as a failed check (its exception in the detail), never as an approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optbus.events import OrderIntent, RiskCheck, RiskDecision
from optbus.ids import derived_event_id
from optbus_risk.checks import ALL_CHECKS
from optbus_risk.checks.portfolio import intent_margin
from optbus_risk.context import Check, CheckContext, RiskEnv
from optbus_risk.state import RiskState


def run_check(name: str, check: Check, intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Run one check; an exception (or a verdict under another name) becomes a failure."""
    try:
        verdict = check(intent, ctx)
    except Exception as exc:  # fail closed: whatever went wrong, the intent is not approved
        return RiskCheck(
            name=name, passed=False, detail=f"check raised {type(exc).__name__}: {exc}"
        )
    if verdict.name != name:
        return RiskCheck(name=name, passed=False, detail=f"check answered as {verdict.name!r}")
    return verdict


@dataclass(frozen=True, slots=True)
class CheckRunner:
    """Decides intents against the folded state with the configured checks."""

    env: RiskEnv
    checks: Sequence[tuple[str, Check]] = ALL_CHECKS

    def context(self, state: RiskState) -> CheckContext:
        """What the checks see now: limits, facts, state and the clock's time."""
        return CheckContext(
            config=self.env.config, facts=self.env.facts, state=state,
            now_ns=self.env.clock.now_ns(), span=self.env.span,
        )  # fmt: skip

    def decide(self, intent: OrderIntent, state: RiskState) -> RiskDecision:
        """Every check's verdict on ``intent``, approved only if there are checks and all pass.

        The decision's id is derived from the intent's event id (a redelivered intent makes the
        same id, which the bus deduplicates); its event time is the intent's.
        """
        ctx = self.context(state)
        checks = [run_check(name, check, intent, ctx) for name, check in self.checks]
        approved = bool(checks) and all(check.passed for check in checks)
        return RiskDecision(
            event_id=derived_event_id(intent.event_id, "risk.decision"),
            ts_event=intent.ts_event,
            ts_init=ctx.now_ns,
            intent=intent,
            approved=approved,
            checks=checks,
            margin_required=intent_margin(intent, ctx) if approved else None,
        )
