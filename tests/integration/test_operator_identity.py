"""The kill-switch operator is the NATS user that sent the command: on a server with the
generated accounts (operators alice and bob), risk records and checks the operator its
subject proves, never the name the command's text gives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from optbus.control import KillSwitchReading
from optbus.events import KillSwitchCommand
from optbus.runtime.control_state import read_kill_switch_revision
from optbus.runtime.service import ServiceRunner
from optbus.subjects import KILLSWITCH, killswitch_of
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.killswitch import Confirmation, describe, describe_state, send_command
from optbus_risk.main import RiskSettings, build_app
from tests.nats_accounts import AccountsServer, accounts_nats, nats_pub

from .conftest import RunningService

pytestmark = pytest.mark.integration

ENGAGE = KillSwitchCommand(action="engage", reason="drill", operator="alice")
RELEASE = KillSwitchCommand(action="release", reason="done", operator="alice")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AccountsServer]:
    with accounts_nats(tmp_path, operators=("alice", "bob")) as server:
        yield server


@pytest.fixture
async def released(server: AccountsServer) -> AsyncIterator[AccountsServer]:
    """The bus migrated, risk running as its own user (only alice may release), and the
    switch released by alice."""
    await migrate_bus(server.url, security=server.security_of("migrator"))
    settings = RiskSettings(nats_url=server.url, nats_security=server.security_of("risk"),
                            http_port=0, release_operators=frozenset({"alice"}))  # fmt: skip
    risk = await RunningService(ServiceRunner(build_app(settings), settings)).ready()
    assert (await send_as(server, "operator-alice", RELEASE)).confirmed
    yield server
    await risk.stop()


async def test_alice_engages_on_her_own_subject_and_is_recorded_as_the_operator(
    released: AccountsServer,
) -> None:
    confirmation = await send_as(released, "operator-alice", ENGAGE)

    assert confirmation.confirmed
    assert "ENGAGED by alice" in confirmation.detail


async def test_alice_is_refused_on_bobs_subject_and_the_engage_is_not_obeyed(
    released: AccountsServer,
) -> None:
    as_bob = KillSwitchCommand(action="engage", reason="drill", operator="bob")

    confirmation = await send_as(released, "operator-alice", as_bob, within=2)

    assert not confirmation.confirmed
    assert f'permissions violation for publish to "{killswitch_of("bob")}"' in confirmation.detail
    assert "released" in await describe_state(released.url, released.security_of("operator"))


async def test_a_release_by_an_operator_not_allowed_to_release_is_refused(
    released: AccountsServer,
) -> None:
    assert (await send_as(released, "operator-alice", ENGAGE)).confirmed
    by_bob = KillSwitchCommand(action="release", reason="done", operator="bob")

    confirmation = await send_as(released, "operator-bob", by_bob)

    assert not confirmation.confirmed
    assert "ENGAGED by alice" in confirmation.detail


async def test_a_release_on_the_plain_subject_naming_alice_is_the_default_operators_and_refused(
    released: AccountsServer,
) -> None:
    assert (await send_as(released, "operator-alice", ENGAGE)).confirmed
    body = b'{"action":"release","reason":"done","operator":"alice"}'

    state = await next_state(released, lambda: nats_pub_as_operator(released, body))

    assert "ENGAGED by alice" in describe(state)


async def test_the_bytes_of_nats_pub_on_the_plain_subject_still_engage(
    released: AccountsServer,
) -> None:
    body = b'{"action":"engage","reason":"runaway orders","operator":"asha"}'

    state = await next_state(released, lambda: nats_pub_as_operator(released, body))

    assert "ENGAGED by operator" in describe(state)
    assert "(the command named operator 'asha')" in describe(state)


def nats_pub_as_operator(server: AccountsServer, body: bytes) -> None:
    """`nats pub control.killswitch BODY` as the default operator."""
    nats_pub(server.server.port, KILLSWITCH, body, server.security_of("operator").nkey_seed_file)


async def send_as(
    server: AccountsServer, user: str, command: KillSwitchCommand, within: float = 5.0
) -> Confirmation:
    """``optbus killswitch`` as ``user``."""
    return await send_command(server.url, command, within, server.security_of(user))


async def next_state(server: AccountsServer, send: Callable[[], None]) -> KillSwitchReading:
    """The kill-switch state risk stores after ``send`` (it stores one for every command, even
    one it refuses)."""
    nc = await server.connect_as("operator")
    js = nc.jetstream()
    before, _ = await read_kill_switch_revision(js)
    send()
    deadline = time.monotonic() + 10.0
    revision, state = before, None
    while revision == before and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        revision, state = await read_kill_switch_revision(js)
    await nc.close()
    assert state is not None, "risk stored no state within 10 s"
    return state
