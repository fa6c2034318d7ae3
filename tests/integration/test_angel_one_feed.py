"""A local Angel One (SmartAPI's protocol) → market-data → greeks → persistence, end to end.

The fake's market clock runs four times faster than the wall clock: each quarter second the
test moves it on a second and the fake sends a SNAP_QUOTE round for every subscribed token. The
market-data service runs on the same clock, so its snapshots are stamped with the fake's
exchange time and the rows can be matched to the fake's quote model.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import psycopg
import pytest
from prometheus_client import REGISTRY

from optbus.clock import ReplayClock
from optbus.timestamps import datetime_from_ns
from optbus_brokers.angel_one.smartstream import EXCHANGE_TYPES, decode_frame
from optbus_brokers.feed import DroppedFrame, Instrument
from optbus_market_data.feeds.registry import feed_factory
from optbus_market_data.feeds.validation import frame_reason_label
from optbus_market_data.main import MarketDataSettings, build_service
from tests.brokers.angel_one_fake import AngelOneFake, encode_snap_quote
from tests.brokers.conftest import MARKET_DAY, MARKET_MORNING_NS
from tests.brokers.quote_model import ModelQuote

from .conftest import RunningService, eventually

pytestmark = pytest.mark.integration

SECOND = 1_000_000_000
HOUR = 3_600 * SECOND
NIFTY_NEAR_EXPIRY = date(2026, 12, 8)
ATM = 24_000.0
FOLLOWED = 2 + 2 + 4 * 2 * 31  # two indexes, two futures, two expiries each, 31 strikes a side
_session_hours = itertools.count(0)


@dataclass
class AngelSession:
    fake: AngelOneFake
    clock: ReplayClock
    start_ns: int


async def _drive(fake: AngelOneFake, clock: ReplayClock) -> None:
    while True:
        clock.advance_to(clock.now_ns() + SECOND)
        await fake.publish_round()
        await asyncio.sleep(0.25)


@pytest.fixture
async def angel_session(
    nats_url: str, pipeline: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AngelSession]:
    """The fake, market-data on ``angel-one`` pointed at it, greeks and persistence running.

    Each test's market starts an hour after the last one's, so their rows never share times.
    """
    start_ns = MARKET_MORNING_NS + next(_session_hours) * HOUR
    clock = ReplayClock(start_ns)
    async with AngelOneFake(MARKET_DAY, clock) as fake:
        for name, value in fake.environment().items():
            monkeypatch.setenv(name, value)
        settings = MarketDataSettings(
            nats_url=nats_url, http_port=0, source="angel-one", conflation_seconds=0.5,
            reconnect_base_seconds=0.2, reconnect_max_seconds=1.0,
        )  # fmt: skip
        service = build_service(settings, feed_factory("angel-one"), clock)
        running = await RunningService(service.runner).ready()
        driver = asyncio.create_task(_drive(fake, clock))
        try:
            yield AngelSession(fake, clock, start_ns)
        finally:
            driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver
            await running.stop()
        assert service.failures == []


def _rows(database_url: str, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


def _nifty_coverage(database_url: str, start_ns: int) -> dict[str, tuple[int, int, int]]:
    """Per option type of NIFTY's near expiry: strikes with a bid and ask, rows, rows with iv
    and delta."""
    rows = _rows(
        database_url,
        "SELECT option_type, count(DISTINCT strike) FILTER (WHERE bid > 0 AND ask > 0), "
        "count(*), count(*) FILTER (WHERE iv IS NOT NULL AND delta IS NOT NULL) "
        "FROM option_ticks WHERE underlying = 'NIFTY' AND expiry = %s AND time >= %s "
        "AND time < %s GROUP BY option_type",
        (NIFTY_NEAR_EXPIRY, datetime_from_ns(start_ns), datetime_from_ns(start_ns + HOUR)),
    )
    return {str(kind): (int(q), int(n), int(g)) for kind, q, n, g in rows}  # type: ignore[call-overload]


def _covered(coverage: dict[str, tuple[int, int, int]]) -> bool:
    return set(coverage) == {"CE", "PE"} and all(
        quoted >= 25 and with_greeks >= 0.8 * rows
        for quoted, rows, with_greeks in coverage.values()
    )


def _atm_call(fake: AngelOneFake) -> Instrument:
    return next(
        i for i in fake.instruments
        if i.underlying == "NIFTY" and i.kind == "call" and i.expiry == NIFTY_NEAR_EXPIRY
        and i.strike == ATM
    )  # fmt: skip


async def test_option_ticks_hold_the_fakes_quotes_with_iv_and_delta_within_a_minute(
    angel_session: AngelSession, database_url: str
) -> None:
    async def covered() -> bool:
        return _covered(_nifty_coverage(database_url, angel_session.start_ns))

    await eventually(covered, within=60.0)

    call = _atm_call(angel_session.fake)
    [(time, bid, ask)] = _rows(
        database_url,
        "SELECT time, bid, ask FROM option_ticks WHERE underlying = 'NIFTY' AND expiry = %s "
        "AND strike = %s AND option_type = 'CE' AND bid > 0 AND time >= %s "
        "ORDER BY time LIMIT 1",
        (NIFTY_NEAR_EXPIRY, ATM, datetime_from_ns(angel_session.start_ns)),
    )
    row_ns = (
        angel_session.start_ns
        + round(
            (time - datetime_from_ns(angel_session.start_ns)).total_seconds()  # type: ignore[operator]
        )
        * SECOND
    )
    model = angel_session.fake.model
    sent = {(q.bid, q.ask) for q in (model.quote(call, ts, 0) for ts in (row_ns, row_ns - SECOND))}
    assert (bid, ask) in sent


async def test_a_dropped_connection_reconnects_resubscribes_and_flags_the_gap(
    angel_session: AngelSession, database_url: str
) -> None:
    fake = angel_session.fake
    await asyncio.wait_for(fake.wait_for_subscriptions(FOLLOWED), timeout=60)

    await fake.drop_connections(abruptly=True)

    await asyncio.wait_for(fake.wait_for_subscriptions(FOLLOWED, connections=2), timeout=60)

    async def gap_stored() -> bool:
        return bool(_gaps(database_url, angel_session.start_ns))

    await eventually(gap_stored, within=60.0)
    [(span_start, span_end)] = _gaps(database_url, angel_session.start_ns)
    assert angel_session.start_ns < span_start < span_end  # type: ignore[operator]


def _gaps(database_url: str, start_ns: int) -> list[tuple[object, ...]]:
    return _rows(
        database_url,
        "SELECT (payload->>'span_start')::bigint, (payload->>'span_end')::bigint FROM events "
        "WHERE type = 'md.feed.issue' AND payload->>'kind' = 'gap' "
        "AND payload->>'broker' = 'angel-one' AND (payload->>'span_start')::bigint >= %s "
        "AND (payload->>'span_start')::bigint < %s",
        (start_ns, start_ns + HOUR),
    )


def _dropped(reason: str) -> float:
    labels = {"broker": "angel-one", "reason": reason}
    return REGISTRY.get_sample_value("optbus_market_data_feed_dropped_total", labels) or 0.0


async def test_malformed_frames_are_counted_and_dropped_and_the_feed_goes_on(
    angel_session: AngelSession, database_url: str
) -> None:
    fake = angel_session.fake
    await asyncio.wait_for(fake.wait_for_subscriptions(FOLLOWED), timeout=60)
    call = _atm_call(fake)
    crossed = encode_snap_quote(
        call.token, EXCHANGE_TYPES[call.segment], sequence=1,
        exchange_ms=angel_session.clock.now_ns() // 1_000_000,
        quote=ModelQuote(last=100.0, bid=101.0, ask=99.0, bid_size=65, ask_size=65, volume=1,
                         open_interest=1),
        tick=call.tick_size,
    )  # fmt: skip
    headerless = b"\x03"
    frame_reason = decode_frame(headerless)
    assert isinstance(frame_reason, DroppedFrame)
    reasons = ("crossed", frame_reason_label(frame_reason.reason))
    before = [_dropped(reason) for reason in reasons]

    await fake.send_raw(crossed)
    await fake.send_raw(headerless)

    async def counted() -> bool:
        return all(_dropped(r) > b for r, b in zip(reasons, before, strict=True))

    await eventually(counted, within=30.0)
    rows_then = sum(n for _, n, _ in _nifty_coverage(database_url, angel_session.start_ns).values())

    async def still_flowing() -> bool:
        coverage = _nifty_coverage(database_url, angel_session.start_ns)
        return sum(n for _, n, _ in coverage.values()) > rows_then

    await eventually(still_flowing, within=30.0)
