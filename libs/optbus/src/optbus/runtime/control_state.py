"""Reading and writing the kill-switch state in its JetStream key-value bucket."""

from __future__ import annotations

import msgspec
import structlog
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from optbus.control import KILL_SWITCH_KEY, KillSwitchReading, KillSwitchState, UnknownKillSwitch
from optbus.runtime.migration import MIGRATE_HINT, BusNotMigrated
from optbus.subjects import KILLSWITCH_BUCKET

_log = structlog.get_logger()
_decoder = msgspec.json.Decoder(KillSwitchState)
_FIRST_STATE = "an operator must release it (`optbus killswitch release`) to start trading"


async def control_bucket(js: JetStreamContext) -> KeyValue:
    """The control bucket; ``BusNotMigrated`` when missing: only ``optbus bus migrate``
    creates it, so that no service login may make (or remake) the bucket's stream."""
    try:
        return await js.key_value(KILLSWITCH_BUCKET)
    except BucketNotFoundError as exc:
        raise BusNotMigrated([f"no kill-switch bucket {KILLSWITCH_BUCKET}"]) from exc


async def read_kill_switch(js: JetStreamContext) -> KillSwitchReading:
    """The current state, or why there is none; a missing state halts (fail closed), so that
    deleting the key or the bucket never resumes trading."""
    _, state = await read_kill_switch_revision(js)
    if isinstance(state, UnknownKillSwitch):
        _log.error("kill-switch state missing or unreadable: failing closed", reason=state.reason)
    return state


async def read_kill_switch_revision(js: JetStreamContext) -> tuple[int, KillSwitchReading]:
    """The state with its revision in the bucket (0 when there is none), so that an operator
    can tell a state risk stored after a command from the one before it. Logs nothing: an
    operator's tool asks again and again while it waits."""
    try:
        bucket = await js.key_value(KILLSWITCH_BUCKET)
        entry = await bucket.get(KILL_SWITCH_KEY)
    except BucketNotFoundError:
        return 0, UnknownKillSwitch(f"no kill-switch bucket {KILLSWITCH_BUCKET}: {MIGRATE_HINT}")
    except KeyNotFoundError:
        missing = f"no key {KILL_SWITCH_KEY} in {KILLSWITCH_BUCKET} (deleted or never set)"
        return 0, UnknownKillSwitch(f"{missing}: {_FIRST_STATE}")
    except Exception as exc:
        return 0, UnknownKillSwitch(f"kill-switch state unreadable ({exc!r})")
    revision = entry.revision or 0
    try:
        return revision, _decoder.decode(entry.value or b"")
    except msgspec.DecodeError as exc:
        return revision, UnknownKillSwitch(
            f"kill-switch state corrupt ({exc}): engage or release it again"
        )


async def write_kill_switch(js: JetStreamContext, state: KillSwitchState) -> None:
    """Store the state (the bucket's history keeps every change)."""
    bucket = await control_bucket(js)
    await bucket.put(KILL_SWITCH_KEY, msgspec.json.encode(state))


async def write_first_kill_switch(js: JetStreamContext, state: KillSwitchState) -> bool:
    """Store a first state on a bus that has none (a fresh one, or a deleted key); leave a
    stored state alone, so that a set-up step never releases a switch an operator engaged.
    Returns whether it stored ``state``."""
    try:
        await (await control_bucket(js)).create(KILL_SWITCH_KEY, msgspec.json.encode(state))
    except KeyWrongLastSequenceError:
        return False
    return True
