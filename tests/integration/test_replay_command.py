"""``optbus replay``: recorded market events from PostgreSQL onto an isolated bus."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import nats
import pytest
from typer.testing import CliRunner

from optbus.codec import encode
from optbus.events import OptionChainSnapshot
from optbus_cli.main import app
from optbus_cli.servers import LocalNats
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore

from ..conftest import fresh_database
from .conftest import simulated_steps

pytestmark = pytest.mark.integration

DAY = date(2026, 12, 17)


@pytest.fixture
def recorded(postgres_admin_url: str) -> Iterator[tuple[str, int]]:
    """A database holding three recorded market steps; yields its URL and the chain count."""
    steps = simulated_steps(DAY, 3, "it-replay")
    events = [event for step in steps for event in step]
    with fresh_database(postgres_admin_url, f"optbus_replay_test_{os.getpid()}") as url:
        migrate(url)
        store = EventStore(url)
        store.write([decode_stored(BusMessage("MD", seq, "md.x", encode(e), e.ts_event, None))
                     for seq, e in enumerate(events, start=1)])  # fmt: skip
        store.close()
        yield url, sum(isinstance(e, OptionChainSnapshot) for e in events)


async def _chains_on(url: str) -> int:
    nc = await nats.connect(url)
    info = await nc.jetstream().stream_info("MD", subjects_filter="md.chain.>")
    await nc.close()
    return sum((info.state.subjects or {}).values())


def test_a_recorded_window_is_replayed_onto_the_isolated_bus(
    recorded: tuple[str, int], tmp_path: Path
) -> None:
    database_url, chains = recorded
    target = LocalNats(tmp_path / "nats").start()
    try:
        result = CliRunner().invoke(app, [
            "replay", "--from", f"{DAY}T00:00:00", "--to", f"{DAY}T23:59:59",
            "--target-nats-url", target.url, "--database-url", database_url,
        ])  # fmt: skip
        replayed = asyncio.run(_chains_on(target.url))
    finally:
        target.stop()

    assert result.exit_code == 0, result.output
    assert replayed == chains


def test_replaying_onto_the_live_bus_is_refused(recorded: tuple[str, int]) -> None:
    database_url, _ = recorded

    result = CliRunner().invoke(app, [
        "replay", "--from", f"{DAY}T00:00:00", "--to", f"{DAY}T23:59:59",
        "--target-nats-url", "nats://127.0.0.1:4222", "--nats-url", "nats://127.0.0.1:4222",
        "--database-url", database_url,
    ])  # fmt: skip

    assert result.exit_code == 2
