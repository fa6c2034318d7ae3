"""nats-server is killed (-9) mid-session and restarted: every option lands exactly once."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from optbus.events import OptionChainSnapshot
from optbus_cli.servers import LocalNats

from ..integration.conftest import (
    eventually,
    publish_events,
    query_one,
    simulated_steps,
    start_greeks,
    start_persistence,
)

pytestmark = pytest.mark.fault


async def test_a_killed_nats_server_loses_and_doubles_no_option_tick(
    own_nats: LocalNats, database_url: str
) -> None:
    day = date(2026, 12, 10)
    steps = simulated_steps(day, 10, "fault-nats-kill")
    expected_rows = sum(
        2 * len(e.strikes) for s in steps for e in s if isinstance(e, OptionChainSnapshot)
    )
    services = [
        await start_persistence(own_nats.url, database_url).ready(),
        await start_greeks(own_nats.url).ready(),
    ]
    await publish_events(own_nats.url, [e for s in steps[:5] for e in s])

    async def some_rows() -> bool:
        return _ticks(database_url, day) > 0

    await eventually(some_rows)
    own_nats.kill()
    own_nats.start()
    await asyncio.sleep(3.0)
    await publish_events(own_nats.url, [e for s in steps[5:] for e in s])

    async def all_rows() -> bool:
        return _ticks(database_url, day) >= expected_rows

    await eventually(all_rows, within=120)
    await asyncio.sleep(2.0)
    for service in services:
        await service.stop()
    assert _ticks(database_url, day) == expected_rows


def _ticks(database_url: str, day: date) -> int:
    (count,) = query_one(
        database_url,
        "SELECT count(*) FROM option_ticks WHERE time >= %s::date AND time < %s::date + 1",
        (day, day),
    )
    return int(count)  # type: ignore[call-overload]
