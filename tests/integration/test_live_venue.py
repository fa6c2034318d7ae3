"""Execution on a live venue (the local Angel One) over a real bus: a position at the broker
that the log does not know halts trading, `optbus reconcile` shows it, `--adopt` makes it the
log's (audited), and live trading is refused without the switch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from click.testing import Result
from typer.testing import CliRunner

from optbus.clock import LiveClock
from optbus.control import KillSwitchState
from optbus.runtime.control_state import read_kill_switch
from optbus.runtime.service import ServiceRunner
from optbus.subjects import RECONCILIATION_ADOPTED, RECONCILIATION_OPERATOR
from optbus_cli.main import app
from optbus_cli.servers import LocalNats
from optbus_execution.main import ExecutionSettings
from optbus_execution.main import build_app as build_execution
from optbus_risk.main import RiskSettings
from optbus_risk.main import build_app as build_risk
from tests.brokers.angel_one_fake import AngelOneFake
from tests.brokers.conftest import MARKET_DAY

from ..conftest import migrated_nats
from .conftest import RunningService, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalNats]:
    with migrated_nats(tmp_path) as server:
        yield server


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AngelOneFake]:
    async with AngelOneFake(MARKET_DAY, LiveClock()) as fake:
        for name, value in fake.environment().items():
            monkeypatch.setenv(name, value)
        yield fake


async def _cli(*args: str) -> Result:
    """An ``optbus`` command, run off the event loop (it runs its own)."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def _kill_switch(url: str) -> KillSwitchState | None:
    nc = await nats.connect(url)
    try:
        state = await read_kill_switch(nc.jetstream())
    finally:
        await nc.close()
    return state if isinstance(state, KillSwitchState) else None


async def test_a_position_unknown_to_the_log_halts_is_shown_and_can_be_adopted(
    server: LocalNats, fake: AngelOneFake
) -> None:
    call = next(i for i in fake.instruments if i.kind == "call" and i.underlying == "NIFTY")
    fake.inject_position(call.token, -call.lot_size, 100.0)
    risk_settings = RiskSettings(nats_url=server.url, http_port=0)
    risk = await RunningService(ServiceRunner(build_risk(risk_settings), risk_settings)).ready()
    settings = ExecutionSettings(nats_url=server.url, http_port=0, venue="angel-one")
    execution = RunningService(ServiceRunner(build_execution(settings), settings))
    try:
        await execution.ready()

        async def halted_by_reconciliation() -> bool:
            state = await _kill_switch(server.url)
            return state is not None and state.engaged and state.operator == RECONCILIATION_OPERATOR

        await eventually(halted_by_reconciliation)
        state = await _kill_switch(server.url)
        assert state is not None
        assert f"broker {-call.lot_size}, log 0" in state.reason

        shown = await _cli("reconcile", "--venue", "angel-one", "--nats-url", server.url)
        assert shown.exit_code == 1, shown.output
        assert "broker" in shown.output.splitlines()[0]
        assert str(-call.lot_size) in shown.output

        adopted = await _cli(
            "reconcile", "--venue", "angel-one", "--nats-url", server.url, "--adopt",
            "--reason", "the short is ours", "--operator", "asha",
        )  # fmt: skip
        assert adopted.exit_code == 0, adopted.output

        async def agreed() -> bool:
            again = await _cli("reconcile", "--venue", "angel-one", "--nats-url", server.url)
            return again.exit_code == 0

        await eventually(agreed)
        nc = await nats.connect(server.url)
        try:
            info = await nc.jetstream().stream_info(
                "TRADING", subjects_filter=RECONCILIATION_ADOPTED
            )
        finally:
            await nc.close()
        assert info.state.messages == 1
    finally:
        await execution.stop()
        await risk.stop()
