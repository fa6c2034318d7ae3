"""Execution handlers: a bus message in, the execution events it causes out."""

from __future__ import annotations

from optbus.events import Event, KillSwitchCommand, KillSwitchEngaged, KillSwitchReleased
from optbus.runtime.metrics import show_kill_switch
from optbus_execution.engine import ExecutionEngine


def on_kill_switch(
    command: KillSwitchCommand, engine: ExecutionEngine, service: str
) -> list[Event]:
    """An operator's engage, acted on directly so that a halt never waits for another service.

    A release is not acted on here: risk may refuse it (only named operators may release), so
    trading resumes on risk's ``KillSwitchReleased`` (``on_released``) instead."""
    if command.action != "engage":
        return []
    return _engage(engine, service, flatten=command.flatten, reason=command.reason)


def on_engaged(engaged: KillSwitchEngaged, engine: ExecutionEngine, service: str) -> list[Event]:
    """Risk engaged the switch: how an engage on an operator's own subject
    (``control.killswitch.<operator>``) reaches execution; after an engage on the plain
    subject, already acted on, it changes nothing that is in hand."""
    return _engage(engine, service, flatten=engaged.flatten, reason=engaged.reason)


def _engage(engine: ExecutionEngine, service: str, *, flatten: bool, reason: str) -> list[Event]:
    events = engine.on_kill_switch(True, flatten=flatten, reason=reason)
    show_kill_switch(service, engine.halted)
    return events


def on_released(released: KillSwitchReleased, engine: ExecutionEngine, service: str) -> list[Event]:
    """Risk released the kill switch: opening orders are taken again."""
    events = engine.on_kill_switch(False, reason=released.reason)
    show_kill_switch(service, engine.halted)
    return events
