"""The kill switch as pure state: operator commands in, KillSwitchEngaged/Released events out.

Fail closed: a state that could not be read is ``unknown``, and ``unknown`` halts trading like
``engaged``. Engage is idempotent: engaging an engaged switch emits nothing and leaves the state
as it is, except that an engage asking to flatten upgrades a switch engaged without flatten
(that emits a new KillSwitchEngaged, because positions must now be closed). Release of a
released switch emits nothing either. Releasing may be kept to named operators: a release by
anyone else changes nothing (the switch stays engaged, or unknown).

A command applied already announces its event again: risk stores the state before it
publishes the event, so when the publish fails the command comes back (redelivered) to a state
that already holds it. The event is the same, id included, so JetStream's duplicate window and
the store's event-id key keep it once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

import msgspec

from optbus import control
from optbus.clock import Clock
from optbus.events import KillSwitchCommand, KillSwitchEngaged, KillSwitchReleased
from optbus.ids import derived_event_id

KillSwitchStatus = Literal["engaged", "released", "unknown"]
KillSwitchEvent: TypeAlias = KillSwitchEngaged | KillSwitchReleased
_ENGAGED = "killswitch.engaged"
_RELEASED = "killswitch.released"


@dataclass(frozen=True, slots=True)
class KillSwitchState:
    """Whether trading is halted by an operator, by whom, why and since when."""

    status: KillSwitchStatus
    operator: str = ""
    reason: str = ""
    flatten: bool = False
    since_ns: int | None = None
    last_event: KillSwitchEvent | None = None
    """The event that made this state, if known (see the module's docstring)."""

    @classmethod
    def unknown(cls, reason: str = "kill switch state could not be read") -> KillSwitchState:
        """The state when it could not be read: halted (fail closed)."""
        return cls(status="unknown", reason=reason)

    @classmethod
    def released(cls) -> KillSwitchState:
        """The state of a switch that was never engaged."""
        return cls(status="released")

    @property
    def halted(self) -> bool:
        """Whether new positions are refused: engaged, or unknown (fail closed)."""
        return self.status != "released"

    @property
    def flattening(self) -> bool:
        """Whether every position must be closed (engaged with flatten; never when unknown)."""
        return self.status == "engaged" and self.flatten

    def describe(self) -> str:
        """One line for a check's detail or a log."""
        if self.status == "released":
            return "kill switch released"
        who = f" by {self.operator}" if self.operator else ""
        why = f": {self.reason}" if self.reason else ""
        return f"kill switch {self.status}{who}{why}"


@dataclass(frozen=True, slots=True)
class KillSwitchOutcome:
    """What a command does: the new state and the events to publish (none when idempotent)."""

    state: KillSwitchState
    events: tuple[KillSwitchEvent, ...]


def apply_command(
    command: KillSwitchCommand,
    state: KillSwitchState,
    *,
    command_id: str,
    ts_event: int,
    clock: Clock,
    release_operators: frozenset[str] = frozenset(),
) -> KillSwitchOutcome:
    """Decide an operator's command against the current state.

    ``command_id`` identifies the command message (its stream sequence or message id) so that a
    redelivered command makes the same event ids; ``ts_event`` is when it was published.
    ``release_operators`` are those who may release (empty: anyone).
    """
    if command.action == "engage":
        outcome = _engage(command, state, command_id, ts_event, clock)
    elif may_release(command.operator, release_operators):
        outcome = _release(command, state, command_id, ts_event, clock)
    else:
        outcome = KillSwitchOutcome(state=state, events=())
    last = state.last_event
    ours = {derived_event_id(command_id, _ENGAGED), derived_event_id(command_id, _RELEASED)}
    if outcome.events or last is None or last.event_id not in ours:
        return outcome
    return KillSwitchOutcome(state=state, events=(last,))


def authenticated(command: KillSwitchCommand, operator: str) -> KillSwitchCommand:
    """The command as from ``operator``, the identity its subject proves (only that operator's
    NATS user may publish there), never the free-text ``operator`` field; a different name in
    that field is kept in the reason, for the audit, and taken for nothing."""
    if command.operator in ("", operator):
        return msgspec.structs.replace(command, operator=operator)
    said = f"(the command named operator {command.operator!r})"
    reason = f"{command.reason} {said}" if command.reason else said
    return msgspec.structs.replace(command, operator=operator, reason=reason)


def may_release(operator: str, release_operators: frozenset[str]) -> bool:
    """Whether ``operator`` may release the switch: anyone when no operator is named."""
    return not release_operators or operator in release_operators


def _engage(
    command: KillSwitchCommand, state: KillSwitchState, command_id: str, ts: int, clock: Clock
) -> KillSwitchOutcome:
    upgrade_to_flatten = state.status == "engaged" and command.flatten and not state.flatten
    if state.status == "engaged" and not upgrade_to_flatten:
        return KillSwitchOutcome(state=state, events=())
    event = KillSwitchEngaged(
        event_id=derived_event_id(command_id, _ENGAGED),
        ts_event=ts,
        ts_init=clock.now_ns(),
        operator=command.operator,
        reason=command.reason,
        flatten=command.flatten,
    )
    return KillSwitchOutcome(state=apply_kill_switch_event(state, event), events=(event,))


def _release(
    command: KillSwitchCommand, state: KillSwitchState, command_id: str, ts: int, clock: Clock
) -> KillSwitchOutcome:
    if state.status == "released":
        return KillSwitchOutcome(state=state, events=())
    event = KillSwitchReleased(
        event_id=derived_event_id(command_id, _RELEASED),
        ts_event=ts,
        ts_init=clock.now_ns(),
        operator=command.operator,
        reason=command.reason,
    )
    return KillSwitchOutcome(state=apply_kill_switch_event(state, event), events=(event,))


def apply_kill_switch_event(state: KillSwitchState, event: KillSwitchEvent) -> KillSwitchState:
    """Fold a KillSwitchEngaged or KillSwitchReleased (ours, replayed, or another instance's)."""
    if isinstance(event, KillSwitchEngaged):
        flatten = event.flatten or (state.status == "engaged" and state.flatten)
        return KillSwitchState(
            status="engaged",
            operator=event.operator,
            reason=event.reason,
            flatten=flatten,
            since_ns=state.since_ns if state.status == "engaged" else event.ts_event,
            last_event=event,
        )
    return replace(
        KillSwitchState.released(),
        operator=event.operator,
        reason=event.reason,
        since_ns=event.ts_event,
        last_event=event,
    )


def to_stored(state: KillSwitchState) -> control.KillSwitchState:
    """The shared form kept in the key-value bucket (an unknown state is stored as engaged)."""
    return control.KillSwitchState(
        engaged=state.status != "released",
        operator=state.operator,
        reason=state.reason,
        flatten=state.flatten,
        since_ns=state.since_ns or 0,
        last_event=state.last_event,
    )


def from_stored(stored: control.KillSwitchReading) -> KillSwitchState:
    """The risk view of what was read from the bucket; no readable state is unknown (halted)."""
    if isinstance(stored, control.UnknownKillSwitch):
        return KillSwitchState.unknown(stored.reason)
    if not stored.engaged:
        return KillSwitchState(
            status="released", operator=stored.operator, reason=stored.reason,
            since_ns=stored.since_ns or None, last_event=stored.last_event,
        )  # fmt: skip
    return KillSwitchState(
        status="engaged", operator=stored.operator, reason=stored.reason,
        flatten=stored.flatten, since_ns=stored.since_ns or None, last_event=stored.last_event,
    )  # fmt: skip
