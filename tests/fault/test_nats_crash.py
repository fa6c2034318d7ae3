"""nats-server is killed (-9) mid-session and restarted: every option lands exactly once, nothing
is left stuck, and the kill switch engaged before the kill is still engaged and obeyed."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from optbus_cli.servers import LocalNats

from ..integration.conftest import (
    expected_rows,
    publish_events,
    simulated_steps,
    start_greeks,
    start_persistence,
    start_risk,
    wait_for_rows,
)
from .session import OBEYED, after_the_fault, engage_kill_switch, tally

pytestmark = pytest.mark.fault


async def test_a_killed_nats_server_loses_and_doubles_no_option_tick(
    own_nats: LocalNats, database_url: str
) -> None:
    day = date(2026, 12, 10)
    steps = simulated_steps(day, 10, "fault-nats-kill")
    rows = expected_rows(steps)
    services = [
        await start_persistence(own_nats.url, database_url).ready(),
        await start_greeks(own_nats.url).ready(),
        await start_risk(own_nats.url).ready(),
    ]
    await engage_kill_switch(own_nats.url)
    await publish_events(own_nats.url, [e for s in steps[:5] for e in s])

    await wait_for_rows(database_url, day, 1)
    own_nats.kill()
    own_nats.start()
    await asyncio.sleep(3.0)
    await publish_events(own_nats.url, [e for s in steps[5:] for e in s])

    await wait_for_rows(database_url, day, rows, within=120)
    await asyncio.sleep(2.0)
    backlog, kill_switch = await after_the_fault(own_nats.url, day)
    for service in services:
        await service.stop()
    counted = tally(database_url, day, rows, backlog, kill_switch)
    assert (counted.lost, counted.duplicated, counted.stuck) == (0, 0, {})
    assert counted.kill_switch == OBEYED  # engaged before the kill, still engaged and obeyed
