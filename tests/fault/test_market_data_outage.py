"""nats-server stops for 15 s while market-data plays a session: it waits, publishes again the
events JetStream did not confirm, under the same ids, and the stream ends up with every event
once; nothing is left stuck, and the kill switch engaged before the outage is still engaged and
obeyed by risk after it."""

from __future__ import annotations

import asyncio
from datetime import date

import nats
import pytest
from nats.js.errors import NotFoundError

from optbus_cli.servers import LocalNats
from optbus_market_data.main import MarketDataSettings, run_service

from ..integration.conftest import eventually, simulated_steps, start_risk, stuck
from .session import OBEYED, after_the_fault, engage_kill_switch

pytestmark = pytest.mark.fault

DAY = date(2027, 1, 14)
RUN_ID = "fault-md-outage"
OUTAGE_SECONDS = 15.0


async def _market_data_stored(nats_url: str) -> int:
    """How many messages the MD stream holds (none before the service made it); JetStream
    drops a message whose id it has seen."""
    nc = await nats.connect(nats_url)
    try:
        return (await nc.jetstream().stream_info("MD")).state.messages
    except NotFoundError:
        return 0
    finally:
        await nc.close()


async def test_market_data_publishes_every_event_it_made_across_a_nats_outage(
    own_nats: LocalNats,
) -> None:
    settings = MarketDataSettings(
        nats_url=own_nats.url, seed=11, run_id=RUN_ID, start_date=DAY, minutes=1, speed="20",
        exit_when_done=True, http_port=0,
    )  # fmt: skip
    made = sum(len(step) for step in simulated_steps(DAY, 60, RUN_ID))
    risk = await start_risk(own_nats.url).ready()
    await engage_kill_switch(own_nats.url)
    playing = asyncio.create_task(run_service(settings))

    async def publishing() -> bool:
        return await _market_data_stored(own_nats.url) > 0

    await eventually(publishing, within=20)
    before_the_outage = await _market_data_stored(own_nats.url)
    own_nats.stop()
    await asyncio.sleep(OUTAGE_SECONDS)
    own_nats.start()

    assert await asyncio.wait_for(playing, timeout=60)
    stored = await _market_data_stored(own_nats.url)
    backlog, kill_switch = await after_the_fault(own_nats.url, DAY)
    await risk.stop()
    print(f"\nMD stream: {stored} of {made}; stuck {stuck(backlog)} on {len(backlog)} durables")
    assert before_the_outage < made == stored
    assert stuck(backlog) == {}
    assert kill_switch == OBEYED  # engaged before the outage, still engaged and obeyed
