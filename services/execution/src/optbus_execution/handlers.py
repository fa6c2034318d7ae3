"""Execution handlers: each bus message in, the execution events it causes out."""

from __future__ import annotations

from optbus.events import ChainGreeks, Event, KillSwitchCommand, RiskDecision, VolatilityIndexTick
from optbus.runtime.metrics import KILLSWITCH_ENGAGED
from optbus_execution.engine import ExecutionEngine

SERVICE = "execution"


def on_chain(chain: ChainGreeks, engine: ExecutionEngine) -> list[Event]:
    """A fresh quote: fill what can fill."""
    return engine.on_chain(chain)


def on_vix(tick: VolatilityIndexTick, engine: ExecutionEngine) -> list[Event]:
    """India VIX, for the market context of fills."""
    return engine.on_vix(tick)


def on_decision(decision: RiskDecision, engine: ExecutionEngine) -> list[Event]:
    """An approved intent becomes orders; a rejected one changes nothing."""
    return engine.on_decision(decision) if decision.approved else []


def on_kill_switch(command: KillSwitchCommand, engine: ExecutionEngine) -> list[Event]:
    """The operator's command, acted on directly so that a halt never waits for another service."""
    engaged = command.action == "engage"
    events = engine.on_kill_switch(engaged, flatten=command.flatten, reason=command.reason)
    KILLSWITCH_ENGAGED.labels(SERVICE).set(1 if engine.halted else 0)
    return events
