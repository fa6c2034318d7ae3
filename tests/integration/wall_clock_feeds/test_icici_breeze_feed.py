"""The Breeze fake through market-data, greeks and persistence into ``option_ticks``.

The market-data service follows ICICI Breeze (``OPTBUS_MARKET_DATA_SOURCE=icici-breeze``) with
the adapter pointed at the local fake by its ``OPTBUS_ICICI_BREEZE_*`` settings; the fake quotes
every joined instrument twice a second on the wall clock, as a live market would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import nats
import psycopg
import pytest

from optbus.clock import LiveClock
from optbus.codec import any_event_decoder
from optbus.events import FeedDataIssue
from optbus.market import load_market_facts
from optbus.subjects import md_feed_issue
from optbus_brokers.feed import Instrument
from optbus_market_data.feeds.registry import feed_factory
from optbus_market_data.main import MarketDataSettings, run_service
from tests.brokers.icici_breeze_fake import BreezeFake

from ..conftest import eventually

pytestmark = pytest.mark.integration

STRIKES_EACH_SIDE = 15
EXPIRIES = 2
# Per underlying: its index, its near future, and calls and puts of 2N+1 strikes per expiry.
FOLLOWED_PER_UNDERLYING = 2 + EXPIRIES * 2 * (2 * STRIKES_EACH_SIDE + 1)
WANTED_STRIKES = 25
WANTED_GREEKS_SHARE = 0.8
_TICK_INTERVAL_S = 0.5


@pytest.fixture
async def breeze_feed_running(
    nats_url: str, database_url: str, pipeline: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BreezeFake]:
    """The fake quoting, and market-data following it, with greeks and persistence running."""
    clock = LiveClock()
    today = load_market_facts().local_date(clock.now_ns())
    async with BreezeFake(today, clock) as fake:
        for name, value in fake.environment().items():
            monkeypatch.setenv(name, value)
        await fake.start_ticking(_TICK_INTERVAL_S)
        settings = MarketDataSettings(
            nats_url=nats_url, source="icici-breeze", http_port=0, run_id="it-icici-breeze",
            strikes_each_side=STRIKES_EACH_SIDE, expiries=EXPIRIES, reconnect_base_seconds=0.2,
            reconnect_max_seconds=1.0,
        )  # fmt: skip
        service = asyncio.create_task(run_service(settings, feed_factory("icici-breeze")))
        yield fake
        service.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await service


def _rows_since(database_url: str, since: datetime) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT underlying, expiry, strike, option_type, bid, ask, iv, delta "
            "FROM option_ticks WHERE time >= %s",
            (since,),
        ).fetchall()


def _followed_window(fake: BreezeFake, underlying: str, expiry: date) -> set[float]:
    """The 2N+1 strikes around the fake's spot that market-data follows for one expiry."""
    spot = fake.model.spots[underlying]
    strikes = sorted(
        {i.strike for i in fake.instruments if i.expiry == expiry and i.strike is not None}
    )
    atm = min(strikes, key=lambda strike: abs(strike - spot))
    at = strikes.index(atm)
    return set(strikes[at - STRIKES_EACH_SIDE : at + STRIKES_EACH_SIDE + 1])


def _strikes_with_the_fakes_quotes(
    fake: BreezeFake, rows: list[tuple[object, ...]]
) -> dict[tuple[str, date, str], set[float]]:
    """Per chain side, the strikes of which a row holds a bid and ask the fake sent."""
    by_contract: dict[tuple[str, date | None, float | None, str], Instrument] = {
        (i.underlying, i.expiry, i.strike, "CE" if i.kind == "call" else "PE"): i
        for i in fake.instruments
        if i.kind in ("call", "put")
    }
    quoted: dict[tuple[str, date, str], set[float]] = defaultdict(set)
    for underlying, expiry, strike, side, bid, ask, _iv, _delta in rows:
        instrument = by_contract.get((underlying, expiry, strike, side))  # type: ignore[arg-type]
        if instrument is not None and (bid, ask) in fake.sent.get(instrument.token, set()):
            quoted[(underlying, expiry, side)].add(strike)  # type: ignore[index, arg-type]
    return quoted


async def test_option_ticks_hold_the_fakes_quotes_with_iv_and_delta_within_a_minute(
    breeze_feed_running: BreezeFake, database_url: str
) -> None:
    fake = breeze_feed_running
    since = datetime.now(UTC) - timedelta(seconds=2)
    nearest = {
        underlying: min(i.expiry for i in fake.instruments
                        if i.underlying == underlying and i.kind == "call" and i.expiry)
        for underlying in fake.model.spots
    }  # fmt: skip

    def strikes_quoted(rows: list[tuple[object, ...]]) -> list[int]:
        quoted = _strikes_with_the_fakes_quotes(fake, rows)
        return [
            len(quoted[(underlying, expiry, side)] & _followed_window(fake, underlying, expiry))
            for underlying, expiry in nearest.items()
            for side in ("CE", "PE")
        ]

    async def quoted_with_greeks() -> bool:
        rows = _rows_since(database_url, since)
        with_greeks = sum(1 for *_, iv, delta in rows if iv is not None and delta is not None)
        return all(
            count >= WANTED_STRIKES for count in strikes_quoted(rows)
        ) and with_greeks >= WANTED_GREEKS_SHARE * len(rows)

    # Within a minute of the services starting, as the issue asks.
    await eventually(quoted_with_greeks, within=60.0, interval=1.0)


async def _last_feed_issue(nats_url: str) -> FeedDataIssue | None:
    nc = await nats.connect(nats_url)
    try:
        message = await nc.jetstream().get_last_msg("MD", md_feed_issue("icici-breeze"))
    except nats.js.errors.NotFoundError:
        return None
    finally:
        await nc.close()
    event = any_event_decoder().decode(message.data or b"")
    return event if isinstance(event, FeedDataIssue) else None


async def test_a_dropped_connection_reconnects_resubscribes_and_flags_the_gap(
    breeze_feed_running: BreezeFake, nats_url: str
) -> None:
    fake = breeze_feed_running

    async def following() -> bool:
        everything = FOLLOWED_PER_UNDERLYING * len(fake.model.spots)
        return fake.connections == 1 and len(fake.rooms()) == everything

    await eventually(following, within=60.0)
    followed = fake.rooms()
    await fake.drop_connections()

    async def back_with_the_gap_flagged() -> bool:
        issue = await _last_feed_issue(nats_url)
        resubscribed = fake.connections == 2 and fake.rooms() == followed
        return resubscribed and issue is not None and issue.kind == "gap"

    await eventually(back_with_the_gap_flagged, within=60.0, interval=0.5)
