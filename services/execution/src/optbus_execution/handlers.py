"""Execution handlers: a bus message in, the execution events it causes out."""

from __future__ import annotations

from optbus.events import Event, KillSwitchCommand
from optbus.runtime.metrics import show_kill_switch
from optbus_execution.engine import ExecutionEngine


def on_kill_switch(
    command: KillSwitchCommand, engine: ExecutionEngine, service: str
) -> list[Event]:
    """The operator's command, acted on directly so that a halt never waits for another service."""
    engaged = command.action == "engage"
    events = engine.on_kill_switch(engaged, flatten=command.flatten, reason=command.reason)
    show_kill_switch(service, engine.halted)
    return events
