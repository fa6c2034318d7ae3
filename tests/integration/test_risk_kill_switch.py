"""Risk applies the operator's kill-switch command against a real bus: write, then act."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeAlias

import msgspec
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from optbus.control import RELEASED, KillSwitchState
from optbus.events import DeadLetter, KillSwitchCommand
from optbus.runtime.control_state import read_kill_switch, write_kill_switch
from optbus.runtime.service import ServiceRunner
from optbus.subjects import (
    KILLSWITCH,
    KILLSWITCH_BUCKET,
    KILLSWITCH_ENGAGED,
    KILLSWITCH_RELEASED,
    dead_letter,
)
from optbus_cli.killswitch import send_command
from optbus_cli.main import app
from optbus_cli.servers import LocalNats
from optbus_risk.main import RiskSettings, build_app

from .conftest import RunningService

pytestmark = pytest.mark.integration

ENGAGE = b'{"action":"engage","reason":"drill","operator":"asha"}'
MALFORMED = b'{"action":"resume"}'
"""What an operator might type to resume: no such action, so no command at all."""
KV_STREAM = f"KV_{KILLSWITCH_BUCKET}"


@pytest.fixture
def js(own_nc: Client) -> JetStreamContext:
    return own_nc.jetstream()


StartRisk: TypeAlias = Callable[..., Awaitable[RunningService]]


@pytest.fixture
async def start_risk(own_nats: LocalNats) -> AsyncIterator[StartRisk]:
    """Starts the risk service in-process (consuming once started), stopped after the test."""
    started: list[RunningService] = []

    async def start(**settings: object) -> RunningService:
        risk = RiskSettings(nats_url=own_nats.url, http_port=0, **settings)  # type: ignore[arg-type]
        started.append(RunningService(ServiceRunner(build_app(risk), risk)))
        return await started[-1].ready()

    yield start
    for service in started:
        await service.stop()


async def set_max_value_size(js: JetStreamContext, size: int, stream: str = KV_STREAM) -> None:
    """Make ``stream`` (the bucket's, unless told) refuse (or take again) messages larger than
    ``size`` bytes."""
    config = (await js.stream_info(stream)).config
    config.max_msg_size = size
    await js.update_stream(config)


async def engaged_events(js: JetStreamContext) -> int:
    info = await js.stream_info("CONTROL", subjects_filter=KILLSWITCH_ENGAGED)
    return sum((info.state.subjects or {}).values())


async def stored_engaged(js: JetStreamContext) -> bool:
    return (await read_kill_switch(js)).engaged


async def until(condition: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within} s")


async def test_a_command_whose_state_cannot_be_stored_announces_nothing(
    start_risk: StartRisk, own_nc: Client, js: JetStreamContext
) -> None:
    await write_kill_switch(js, RELEASED)
    await set_max_value_size(js, 16)
    await start_risk()

    await own_nc.publish(KILLSWITCH, ENGAGE)
    await asyncio.sleep(2)

    assert await engaged_events(js) == 0
    assert await read_kill_switch(js) == RELEASED


async def test_a_command_whose_state_could_not_be_stored_is_applied_on_redelivery(
    start_risk: StartRisk, own_nc: Client, js: JetStreamContext
) -> None:
    await write_kill_switch(js, RELEASED)
    await set_max_value_size(js, 16)
    await start_risk()
    await own_nc.publish(KILLSWITCH, ENGAGE)
    await asyncio.sleep(1.5)

    await set_max_value_size(js, -1)

    await until(lambda: engaged_events(js), within=10)
    assert (await read_kill_switch(js)).engaged


async def test_the_kill_switch_consumer_redelivers_a_command_without_limit(
    start_risk: StartRisk, js: JetStreamContext
) -> None:
    """Ten deliveries (the other consumers') would park an engage the bucket refused for a
    quarter of an hour, and the switch would never be engaged."""
    await start_risk()

    info = await js.consumer_info("CONTROL", "risk-killswitch")

    assert info.config.max_deliver == -1


async def test_an_engage_refused_by_the_bucket_for_a_while_is_applied_soon_after_it_takes_it(
    start_risk: StartRisk, own_nc: Client, js: JetStreamContext
) -> None:
    await write_kill_switch(js, RELEASED)
    await set_max_value_size(js, 16)
    await start_risk()
    await own_nc.publish(KILLSWITCH, ENGAGE)
    # refused on its 1st, 2nd, 3rd, ... deliveries: the service's backoff would wait 30 s next
    await asyncio.sleep(8)
    assert await engaged_events(js) == 0

    await set_max_value_size(js, -1)

    await until(lambda: stored_engaged(js), within=3)
    await until(lambda: engaged_events(js), within=3)


async def test_a_malformed_kill_switch_command_is_parked_at_once_and_changes_nothing(
    start_risk: StartRisk, own_nc: Client, js: JetStreamContext
) -> None:
    await write_kill_switch(js, RELEASED)
    await start_risk()

    await own_nc.publish(KILLSWITCH, b'{"action":"resume","reason":"x","operator":"asha"}')

    await until(lambda: parked_commands(js), within=2)
    assert await read_kill_switch(js) == RELEASED
    assert await engaged_events(js) == 0


async def parked_commands(js: JetStreamContext) -> int:
    info = await js.stream_info("DLQ", subjects_filter=dead_letter(KILLSWITCH))
    return sum((info.state.subjects or {}).values())


async def test_an_engaged_event_refused_after_the_state_was_stored_is_published_on_redelivery(
    start_risk: StartRisk, own_nc: Client, js: JetStreamContext
) -> None:
    await write_kill_switch(js, RELEASED)
    await start_risk()
    # CONTROL takes the 56-byte command but refuses the larger KillSwitchEngaged event
    await set_max_value_size(js, 100, stream="CONTROL")
    await own_nc.publish(KILLSWITCH, ENGAGE)
    await until(lambda: stored_engaged(js), within=10)

    await set_max_value_size(js, -1, stream="CONTROL")

    await until(lambda: engaged_events(js), within=10)


async def test_an_engage_is_confirmed_once_risk_stored_it(
    own_nats: LocalNats, start_risk: StartRisk
) -> None:
    await start_risk()
    command = KillSwitchCommand(action="engage", reason="drill", operator="asha")

    confirmation = await send_command(own_nats.url, command)

    assert confirmation.confirmed
    assert "ENGAGED by asha" in confirmation.detail


async def test_an_engage_nobody_stores_is_not_confirmed_and_says_what_was_missing(
    own_nats: LocalNats,
) -> None:
    command = KillSwitchCommand(action="engage", reason="drill", operator="asha")

    confirmation = await send_command(own_nats.url, command, within=1)

    assert not confirmation.confirmed
    assert "no new kill-switch state" in confirmation.detail


@pytest.mark.parametrize("action", ["engage", "release"])
def test_the_command_exits_non_zero_within_five_seconds_without_confirmation(
    own_nats: LocalNats, action: str
) -> None:
    started = time.monotonic()

    result = CliRunner().invoke(
        app, ["killswitch", action, "--reason", "drill", "--nats-url", own_nats.url]
    )

    assert result.exit_code == 1
    assert time.monotonic() - started < 5


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP listener that accepts connections and never says a word: a hung NATS."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"nats://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("action", ["engage", "release"])
def test_the_command_exits_non_zero_within_five_seconds_when_nats_never_answers(
    silent_server: str, action: str
) -> None:
    started = time.monotonic()

    result = CliRunner().invoke(
        app, ["killswitch", action, "--reason", "drill", "--nats-url", silent_server]
    )

    assert result.exit_code == 1
    assert time.monotonic() - started < 5
    assert "not confirmed" in result.output


async def test_a_release_by_an_operator_not_allowed_is_refused_and_stays_engaged(
    own_nats: LocalNats, start_risk: StartRisk
) -> None:
    await start_risk(release_operators=frozenset({"ravi"}))
    engage = KillSwitchCommand(action="engage", reason="drill", operator="asha")
    assert (await send_command(own_nats.url, engage)).confirmed

    release = KillSwitchCommand(action="release", reason="done", operator="asha")
    confirmation = await send_command(own_nats.url, release)

    assert not confirmation.confirmed
    assert "ENGAGED by asha" in confirmation.detail


async def test_a_release_by_an_allowed_operator_is_confirmed(
    own_nats: LocalNats, start_risk: StartRisk
) -> None:
    await start_risk(release_operators=frozenset({"ravi"}))
    engage = KillSwitchCommand(action="engage", reason="drill", operator="asha")
    assert (await send_command(own_nats.url, engage)).confirmed

    release = KillSwitchCommand(action="release", reason="done", operator="ravi")

    assert (await send_command(own_nats.url, release)).confirmed


def invalid_commands_counted() -> float:
    """The in-process risk service's count of kill-switch commands it could not read."""
    counted = REGISTRY.get_sample_value(
        "optbus_killswitch_invalid_commands_total", {"service": "risk"}
    )
    return counted or 0.0


async def parked_command(js: JetStreamContext) -> DeadLetter | None:
    """The last letter parked from the plain kill-switch subject, if any."""
    try:
        message = await js.get_last_msg("DLQ", dead_letter(KILLSWITCH))
    except NotFoundError:
        return None
    return msgspec.json.decode(message.data or b"", type=DeadLetter)


@pytest.fixture
async def malformed_after_engage(
    own_nats: LocalNats, start_risk: StartRisk, own_nc: Client, js: JetStreamContext
) -> float:
    """Risk running, the switch engaged by asha (confirmed), then a malformed command published
    as `nats pub control.killswitch` would, and parked; the invalid commands counted before."""
    await start_risk()
    engage = KillSwitchCommand(action="engage", reason="drill", operator="asha")
    assert (await send_command(own_nats.url, engage)).confirmed
    counted_before = invalid_commands_counted()

    await own_nc.publish(KILLSWITCH, MALFORMED)

    await until(lambda: parked_letter_present(js), within=10)
    return counted_before


async def parked_letter_present(js: JetStreamContext) -> bool:
    return await parked_command(js) is not None


async def test_a_malformed_command_is_parked_with_its_exact_bytes(
    malformed_after_engage: float, js: JetStreamContext
) -> None:
    letter = await parked_command(js)

    assert letter is not None
    assert (letter.consumer, letter.payload) == ("risk-killswitch", MALFORMED.decode())


async def test_a_malformed_command_is_counted_for_the_alert(malformed_after_engage: float) -> None:
    assert invalid_commands_counted() - malformed_after_engage == 1


async def test_a_malformed_command_never_releases_an_engaged_switch(
    malformed_after_engage: float, js: JetStreamContext
) -> None:
    await asyncio.sleep(1)  # anything the command made would be stored by now

    state = await read_kill_switch(js)
    released = await js.stream_info("CONTROL", subjects_filter=KILLSWITCH_RELEASED)

    assert isinstance(state, KillSwitchState)
    assert (state.engaged, state.operator) == (True, "asha")
    assert not released.state.subjects
