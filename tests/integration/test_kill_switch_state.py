"""The kill-switch state in its bucket fails closed: no readable state halts trading."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from optbus.control import RELEASED, KillSwitchState, UnknownKillSwitch
from optbus.runtime.control_state import (
    control_bucket,
    read_kill_switch,
    write_first_kill_switch,
    write_kill_switch,
)
from optbus.subjects import KILLSWITCH_BUCKET
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.killswitch import describe_state
from optbus_cli.servers import LocalNats

pytestmark = pytest.mark.integration

ENGAGED = KillSwitchState(engaged=True, operator="asha", reason="drill", flatten=False,
                          since_ns=1)  # fmt: skip


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LocalNats]:
    server = LocalNats(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
async def bare_js(server: LocalNats) -> AsyncIterator[JetStreamContext]:
    """The server as it started: never migrated, so without the bucket."""
    nc = await nats.connect(server.url)
    yield nc.jetstream()
    await nc.close()


@pytest.fixture
async def js(server: LocalNats, bare_js: JetStreamContext) -> JetStreamContext:
    await migrate_bus(server.url)
    return bare_js


async def test_a_bus_without_the_bucket_reads_as_halted(bare_js: JetStreamContext) -> None:
    state = await read_kill_switch(bare_js)

    assert isinstance(state, UnknownKillSwitch)
    assert state.engaged
    assert KILLSWITCH_BUCKET in state.reason


async def test_a_deleted_bucket_reads_as_halted(js: JetStreamContext) -> None:
    await write_kill_switch(js, RELEASED)
    await js.delete_key_value(KILLSWITCH_BUCKET)

    assert (await read_kill_switch(js)).engaged


async def test_a_deleted_key_reads_as_halted(js: JetStreamContext) -> None:
    await write_kill_switch(js, RELEASED)
    await (await control_bucket(js)).delete("killswitch")

    assert (await read_kill_switch(js)).engaged


async def test_a_purged_key_reads_as_halted(js: JetStreamContext) -> None:
    await write_kill_switch(js, RELEASED)
    await (await control_bucket(js)).purge("killswitch")

    assert (await read_kill_switch(js)).engaged


async def test_unreadable_bytes_read_as_halted(js: JetStreamContext) -> None:
    await (await control_bucket(js)).put("killswitch", b'{"engaged":"no"}')

    state = await read_kill_switch(js)

    assert isinstance(state, UnknownKillSwitch)
    assert "corrupt" in state.reason


async def test_a_released_state_reads_as_released(js: JetStreamContext) -> None:
    await write_kill_switch(js, RELEASED)

    assert await read_kill_switch(js) == RELEASED


async def test_status_says_halted_and_why_when_the_key_is_missing(
    server: LocalNats, js: JetStreamContext
) -> None:
    await write_kill_switch(js, RELEASED)
    await (await control_bucket(js)).delete("killswitch")

    line = await describe_state(server.url)

    assert line.startswith("kill switch: HALTED")
    assert "optbus killswitch release" in line


async def test_a_first_state_is_stored_on_a_bus_without_one(js: JetStreamContext) -> None:
    assert await write_first_kill_switch(js, RELEASED)

    assert await read_kill_switch(js) == RELEASED


async def test_a_first_state_never_replaces_an_engaged_switch(js: JetStreamContext) -> None:
    await write_kill_switch(js, ENGAGED)

    assert not await write_first_kill_switch(js, RELEASED)
    assert await read_kill_switch(js) == ENGAGED
