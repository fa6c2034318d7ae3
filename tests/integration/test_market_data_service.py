"""The market-data service playing sources onto a real JetStream."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import nats
import pytest

from optbus.market import load_market_facts
from optbus_market_data.export import export_session
from optbus_market_data.main import MarketDataSettings, run_service
from optbus_market_data.simulator import SimulatorConfig

pytestmark = pytest.mark.integration


async def _chain_counts(nats_url: str, expiry_day: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info("MD", subjects_filter="md.chain.>")
    finally:
        await nc.close()
    return sum(n for subject, n in (info.state.subjects or {}).items() if expiry_day in subject)


async def test_a_recorded_file_is_played_onto_the_bus_in_full(
    nats_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "session.parquet"
    config = SimulatorConfig(seed=3, run_id="it-file-source", start_date=date(2026, 12, 16))
    export_session(config, path, load_market_facts(), max_steps=30)
    settings = MarketDataSettings(
        nats_url=nats_url, source="file", file=path, speed="max", exit_when_done=True, http_port=0
    )

    succeeded = await run_service(settings)

    assert succeeded
    assert await _chain_counts(nats_url, "NIFTY.20261222") == 30


async def test_a_missing_file_stops_the_service_with_a_failure(
    nats_url: str, tmp_path: Path
) -> None:
    settings = MarketDataSettings(
        nats_url=nats_url, source="file", file=tmp_path / "absent.csv", speed="max",
        exit_when_done=True, http_port=0,
    )  # fmt: skip

    assert not await run_service(settings)
