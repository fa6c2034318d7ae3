"""Checks that gate trading as a whole: kill switch, circuit breaker, hours, age, duplicates."""

from __future__ import annotations

from optbus.events import OrderIntent, RiskCheck
from optbus_risk.book import current_book, reduces_only
from optbus_risk.circuit import breach
from optbus_risk.context import CheckContext, failed, passed
from optbus_risk.sessions import session_state

KILL_SWITCH = "kill_switch"
CIRCUIT_BREAKER = "circuit_breaker"
TRADING_HOURS = "trading_hours"
INTENT_AGE = "intent_age"
DUPLICATE = "duplicate"


def check_kill_switch(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse every opening intent while the switch is engaged or its state is unknown.

    A close passes when it only reduces positions held: a halted (or flattening) book must
    still be able to get out, but "close" is no way around the switch.
    """
    switch = ctx.state.kill_switch
    if not switch.halted:
        return passed(KILL_SWITCH, switch.describe())
    if is_reducing_close(intent, ctx):
        return passed(KILL_SWITCH, f"{switch.describe()}; a close is allowed")
    return failed(KILL_SWITCH, f"{switch.describe()}; only closes of held positions pass")


def is_reducing_close(intent: OrderIntent, ctx: CheckContext) -> bool:
    """Whether the intent is a close that only reduces what is held (working orders counted)."""
    return intent.purpose == "close" and reduces_only(current_book(ctx.state), intent)


def check_circuit_breaker(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Once today's loss or losing streak has reached its limit, pass only reducing closes."""
    day = ctx.facts.local_date(intent.ts_event)
    pnl = ctx.state.pnl.on(day)
    reason = breach(pnl, ctx.config)
    status = f"realised {pnl.realised:,.2f} today, {pnl.consecutive_losses} losses in a row"
    if reason is None:
        return passed(CIRCUIT_BREAKER, status)
    if is_reducing_close(intent, ctx):
        return passed(CIRCUIT_BREAKER, f"tripped ({reason}); a close is allowed")
    return failed(CIRCUIT_BREAKER, f"tripped: {reason}; only closes of held positions pass")


def check_trading_hours(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent stamped outside the normal market of a trading day."""
    is_open, why = session_state(intent.ts_event, ctx.facts)
    return passed(TRADING_HOURS, why) if is_open else failed(TRADING_HOURS, why)


def check_intent_age(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent whose event time is too far behind the clock (a stale redelivery)."""
    age_ns = ctx.now_ns - intent.ts_event
    limit_ns = ctx.config.max_intent_age_ns
    detail = f"age {age_ns / 1e6:,.0f} ms (limit {ctx.config.max_intent_age_ms:,} ms)"
    return passed(INTENT_AGE, detail) if age_ns <= limit_ns else failed(INTENT_AGE, detail)


def check_duplicate(intent: OrderIntent, ctx: CheckContext) -> RiskCheck:
    """Refuse an intent whose id was already decided today (approved or not)."""
    if intent.intent_id in ctx.state.seen_intents:
        return failed(DUPLICATE, f"intent {intent.intent_id} was already decided")
    return passed(DUPLICATE, f"intent {intent.intent_id} is new")
