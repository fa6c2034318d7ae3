"""``optbus killswitch``: the operator's command, sent exactly as ``nats pub`` would send it."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import nats

from optbus.control import KillSwitchReading, UnknownKillSwitch
from optbus.events import KillSwitchCommand
from optbus.runtime.control_state import read_kill_switch
from optbus.subjects import KILLSWITCH


async def send_command(nats_url: str, command: KillSwitchCommand) -> None:
    """A plain core publish of the JSON command (the CONTROL stream captures it)."""
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=1)
    try:
        await nc.publish(KILLSWITCH, msgspec.json.encode(command))
        await nc.flush(timeout=5)
    finally:
        await nc.close()


async def describe_state(nats_url: str) -> str:
    """The kill-switch state in one line."""
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=1)
    try:
        state = await read_kill_switch(nc.jetstream())
    finally:
        await nc.close()
    return describe(state)


def describe(state: KillSwitchReading) -> str:
    """One line for a person: released, engaged by whom and why, or halted for want of a state."""
    if isinstance(state, UnknownKillSwitch):
        return f"kill switch: HALTED (state unknown): {state.reason}"
    if not state.engaged:
        return "kill switch: released (trading allowed)"
    since = datetime.fromtimestamp(state.since_ns / 1e9, tz=UTC).isoformat()
    flatten = ", flatten" if state.flatten else ""
    return f"kill switch: ENGAGED by {state.operator} since {since}{flatten}: {state.reason}"
