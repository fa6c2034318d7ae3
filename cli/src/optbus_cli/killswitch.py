"""``optbus killswitch``: the operator's command, sent exactly as ``nats pub`` would send it,
then confirmed from the state risk stores in the bucket."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from nats.aio.client import Client

from optbus.control import KillSwitchReading, UnknownKillSwitch
from optbus.events import KillSwitchCommand
from optbus.runtime.control_state import read_kill_switch, read_kill_switch_revision
from optbus.runtime.nats_security import NatsSecurity
from optbus.runtime.nats_security import connect as connect_nats
from optbus.subjects import KILLSWITCH_BUCKET, killswitch_of

CONFIRM_SECONDS = 5.0
"""How long the whole command may take, connecting to NATS included: an operator halting
trading is told within this whether it was done."""
_CLOSE_SECONDS = 0.3
"""Of that, what closing the connection is given at most (a hung server never answers it)."""
_SLACK_SECONDS = 0.4
"""Of that, what is left for starting and ending the process around it."""
_CONNECT_SECONDS = 2.0
"""How long one attempt to reach a server may take (a second one follows if time is left)."""
_POLL_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Confirmation:
    """Whether risk stored the state the command asked for, and what was (or was not) seen."""

    confirmed: bool
    detail: str


async def send_command(
    nats_url: str,
    command: KillSwitchCommand,
    within: float = CONFIRM_SECONDS,
    security: NatsSecurity | None = None,
) -> Confirmation:
    """A plain core publish of the JSON command on its operator's subject (the CONTROL stream
    captures it), confirmed only when risk stores a new revision of the state in the asked
    state: a publish the server refused, or a risk that is down or refuses, is never reported
    as done. The answer comes within ``within`` seconds, connecting included, whatever hangs:
    a server that accepts the connection and never answers is not confirmed either."""
    refusals: list[str] = []

    async def remember(exc: Exception) -> None:
        refusals.append(str(exc))

    nc: Client | None = None
    sent = False
    # the reserve for closing and the process around it, never more than half a short wait
    reserve = min(_CLOSE_SECONDS + _SLACK_SECONDS, within / 2)
    deadline = asyncio.get_running_loop().time() + within - reserve
    try:
        async with asyncio.timeout_at(deadline):
            nc = await connect_nats(
                nats_url, security, connect_timeout=min(_CONNECT_SECONDS, within),
                max_reconnect_attempts=1, error_cb=remember,
            )  # fmt: skip
            js = nc.jetstream()
            before, _ = await read_kill_switch_revision(js)
            await nc.publish(killswitch_of(command.operator), msgspec.json.encode(command))
            await nc.flush()
            sent = True
            while True:
                revision, state = await read_kill_switch_revision(js)
                if revision > before:
                    return _answer(command, state)
                await asyncio.sleep(_POLL_SECONDS)
    except TimeoutError:
        pass
    finally:
        if nc is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_CLOSE_SECONDS):
                    await nc.close()
    server = f"; the server said: {'; '.join(refusals)}" if refusals else ""
    if not sent:
        return Confirmation(False, f"not confirmed: NATS at {nats_url} did not take the "
                                   f"command within {within:g} s{server}")  # fmt: skip
    return Confirmation(False, f"not confirmed: risk stored no new kill-switch state in "
                               f"{KILLSWITCH_BUCKET} within {within:g} s{server}")  # fmt: skip


def _answer(command: KillSwitchCommand, state: KillSwitchReading) -> Confirmation:
    """Whether the stored state is what the command asked for (an engage with flatten needs a
    flattening switch)."""
    engage = command.action == "engage"
    if (
        isinstance(state, UnknownKillSwitch)
        or state.engaged != engage
        or (engage and command.flatten and not state.flatten)
    ):
        return Confirmation(False, f"not confirmed: risk stored {describe(state)}")
    return Confirmation(True, f"confirmed by risk: {describe(state)}")


async def describe_state(nats_url: str, security: NatsSecurity | None = None) -> str:
    """The kill-switch state in one line (logged in as ``security``, else the environment)."""
    nc = await connect_nats(nats_url, security, connect_timeout=5, max_reconnect_attempts=1)
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
