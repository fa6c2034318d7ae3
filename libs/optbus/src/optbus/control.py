"""The kill-switch state as kept in the JetStream key-value bucket (pure data)."""

from __future__ import annotations

import msgspec

KILL_SWITCH_KEY = "killswitch"


class KillSwitchState(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Whether trading is halted, by whom, why, and since when (event time, ns)."""

    engaged: bool
    operator: str
    reason: str
    flatten: bool
    since_ns: int


RELEASED = KillSwitchState(engaged=False, operator="", reason="", flatten=False, since_ns=0)
"""The state of a bus that never saw a kill-switch command."""

UNKNOWN = KillSwitchState(
    engaged=True, operator="optbus", reason="kill-switch state unreadable", flatten=False,
    since_ns=0,
)  # fmt: skip
"""What a service assumes when it cannot read the state: halted (fail closed)."""
