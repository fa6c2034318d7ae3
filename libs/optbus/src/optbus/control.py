"""The kill-switch state as kept in the JetStream key-value bucket (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

import msgspec

from optbus.events import KillSwitchEngaged, KillSwitchReleased

KILL_SWITCH_KEY = "killswitch"


class KillSwitchState(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Whether trading is halted, by whom, why, and since when (event time, ns).

    ``last_event`` is the event that made this state (none for a state stored by a set-up
    step): a command redelivered after its state was stored but before its event was
    published announces that event again, even from a restarted risk service."""

    engaged: bool
    operator: str
    reason: str
    flatten: bool
    since_ns: int
    last_event: KillSwitchEngaged | KillSwitchReleased | None = None


RELEASED = KillSwitchState(engaged=False, operator="", reason="", flatten=False, since_ns=0)
"""A released switch, as the set-up of a bus of its own (the replay's) stores it explicitly."""


@dataclass(frozen=True, slots=True)
class UnknownKillSwitch:
    """No state could be read: the key or the bucket is missing, or its bytes do not decode.

    Trading halts (fail closed): a deleted key or bucket must not release the switch. ``reason``
    says, for a person, what was missing and how to get a state again.
    """

    reason: str
    engaged: ClassVar[bool] = True


KillSwitchReading: TypeAlias = KillSwitchState | UnknownKillSwitch
"""What a service reads from the bucket: a stored state, or why there is none."""
