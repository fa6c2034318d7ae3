"""Reading and writing the kill-switch state in its JetStream key-value bucket."""

from __future__ import annotations

import msgspec
import structlog
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

from optbus.control import KILL_SWITCH_KEY, RELEASED, UNKNOWN, KillSwitchState
from optbus.subjects import KILLSWITCH_BUCKET

_log = structlog.get_logger()
_decoder = msgspec.json.Decoder(KillSwitchState)


async def control_bucket(js: JetStreamContext) -> KeyValue:
    """The control bucket, created if missing (history kept for the audit trail)."""
    try:
        return await js.key_value(KILLSWITCH_BUCKET)
    except BucketNotFoundError:
        return await js.create_key_value(KeyValueConfig(bucket=KILLSWITCH_BUCKET, history=64))


async def read_kill_switch(js: JetStreamContext) -> KillSwitchState:
    """The current state; RELEASED if never set; UNKNOWN (halted) if it cannot be read."""
    try:
        bucket = await js.key_value(KILLSWITCH_BUCKET)
        entry = await bucket.get(KILL_SWITCH_KEY)
    except (BucketNotFoundError, KeyNotFoundError):
        return RELEASED
    except Exception as exc:
        _log.error("kill-switch state unreadable: failing closed", error=repr(exc))
        return UNKNOWN
    if entry.value is None:
        return RELEASED
    try:
        return _decoder.decode(entry.value)
    except msgspec.DecodeError as exc:
        _log.error("kill-switch state corrupt: failing closed", error=str(exc))
        return UNKNOWN


async def write_kill_switch(js: JetStreamContext, state: KillSwitchState) -> None:
    """Store the state (the bucket's history keeps every change)."""
    bucket = await control_bucket(js)
    await bucket.put(KILL_SWITCH_KEY, msgspec.json.encode(state))
