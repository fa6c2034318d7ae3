"""Angel One end to end: the local Angel One → market-data → greeks → persistence.

The market-data service runs as ``OPTBUS_MARKET_DATA_SOURCE=angel-one`` would run it: the
adapter is found by name and reads ``OPTBUS_ANGEL_ONE_*`` from the environment, which points it
at the fake. The fake quotes every subscribed token twice a second on the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import nats
import nats.js.errors
import psycopg
import pytest

from optbus.clock import LiveClock
from optbus.codec import any_event_decoder
from optbus.events import FeedDataIssue
from optbus.market import load_market_facts
from optbus.subjects import md_feed_issue
from optbus_market_data.feeds.registry import feed_factory
from optbus_market_data.main import MarketDataSettings, run_service
from tests.brokers.angel_one_fake import AngelOneFake

from .conftest import eventually

pytestmark = pytest.mark.integration

STRIKES_EACH_SIDE = 15  # 31 strikes a side
ENOUGH_STRIKES = 25
ENOUGH_GREEKS = 0.8
WITHIN_SECONDS = 60.0
QUOTE_INTERVAL_SECONDS = 0.5


@pytest.fixture
async def angel_one(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AngelOneFake]:
    clock = LiveClock()
    async with AngelOneFake(load_market_facts().local_date(clock.now_ns()), clock) as fake:
        for name, value in fake.environment().items():
            monkeypatch.setenv(name, value)
        fake.start_streaming(QUOTE_INTERVAL_SECONDS)
        yield fake


@pytest.fixture
async def market_data(nats_url: str, angel_one: AngelOneFake) -> AsyncIterator[None]:
    settings = MarketDataSettings(
        nats_url=nats_url, source="angel-one", http_port=0,
        run_id=f"it-angel-one-{uuid.uuid4().hex[:8]}", strikes_each_side=STRIKES_EACH_SIDE,
        reconnect_base_seconds=0.2, reconnect_max_seconds=1.0,
    )  # fmt: skip
    service = asyncio.create_task(run_service(settings, feed_factory("angel-one")))
    yield
    service.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await service


ChainKey = tuple[str, date]


def _followed_chains(fake: AngelOneFake) -> set[ChainKey]:
    """The chains whose options the service subscribed to."""
    return {
        (instrument.underlying, instrument.expiry)
        for token in fake.subscribed_tokens()
        if (instrument := fake.instrument(token)).kind in ("call", "put")
        and instrument.expiry is not None
    }


def _coverage(fake: AngelOneFake, database_url: str, since: datetime) -> dict[str, object]:
    """Per chain and side, how many strikes have a stored row with a bid/ask the fake sent;
    and the share of all rows since ``since`` that carry both an IV and a delta."""
    tokens = {
        (i.underlying, i.expiry, i.strike, "CE" if i.kind == "call" else "PE"): i.token
        for i in fake.instruments
        if i.kind in ("call", "put")
    }
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT underlying, expiry, strike, option_type, bid, ask, iv, delta "
            "FROM option_ticks WHERE time >= %s",
            (since,),
        ).fetchall()
    matched: dict[tuple[str, date, str], set[float]] = defaultdict(set)
    for underlying, expiry, strike, side, bid, ask, _iv, _delta in rows:
        token = tokens.get((underlying, expiry, strike, side))
        if token is not None and (bid, ask) in fake.sent_touches.get(token, set()):
            matched[(underlying, expiry, side)].add(strike)
    with_greeks = sum(1 for row in rows if row[6] is not None and row[7] is not None)
    return {
        "strikes": {key: len(strikes) for key, strikes in matched.items()},
        "greeks_share": with_greeks / len(rows) if rows else 0.0,
    }


async def test_the_fakes_bid_and_ask_reach_option_ticks_with_iv_and_delta_within_a_minute(
    nats_url: str, database_url: str, pipeline: None, angel_one: AngelOneFake, market_data: None
) -> None:
    since = datetime.now(UTC)
    coverage: dict[str, object] = {}

    async def covered() -> bool:
        nonlocal coverage
        chains = _followed_chains(angel_one)
        coverage = _coverage(angel_one, database_url, since)
        strikes = coverage["strikes"]
        assert isinstance(strikes, dict)
        return (
            len(chains) == 4
            and all(
                strikes.get((u, e, side), 0) >= ENOUGH_STRIKES
                for u, e in chains
                for side in ("CE", "PE")
            )
            and float(coverage["greeks_share"]) >= ENOUGH_GREEKS  # type: ignore[arg-type]
        )

    try:
        await eventually(covered, within=WITHIN_SECONDS, interval=1.0)
    except AssertionError:
        raise AssertionError(f"not covered within {WITHIN_SECONDS} s: {coverage}") from None


async def _last_issue(nats_url: str) -> FeedDataIssue | None:
    nc = await nats.connect(nats_url)
    try:
        message = await nc.jetstream().get_last_msg("MD", md_feed_issue("angel-one"))
    except nats.js.errors.NotFoundError:
        return None
    finally:
        await nc.close()
    event = any_event_decoder().decode(message.data or b"")
    return event if isinstance(event, FeedDataIssue) else None


async def test_a_dropped_connection_reconnects_resubscribes_and_flags_the_gap(
    nats_url: str, angel_one: AngelOneFake, market_data: None
) -> None:
    await angel_one.wait_until(lambda: len(_followed_chains(angel_one)) == 4)
    followed = angel_one.subscribed_tokens()
    dropped_at = LiveClock().now_ns()

    await angel_one.drop_connections(abruptly=True)
    await angel_one.wait_until(
        lambda: angel_one.connections >= 2 and angel_one.subscribed_tokens() >= followed
    )

    async def gap_flagged() -> bool:
        issue = await _last_issue(nats_url)
        return issue is not None and issue.kind == "gap" and issue.ts_init >= dropped_at

    await eventually(gap_flagged, within=WITHIN_SECONDS)
