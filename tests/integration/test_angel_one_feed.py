"""A local Angel One (SmartAPI's protocol) → market-data → greeks → persistence, end to end;
and, on a bus of its own, on through strategy and risk to a paper fill (live data, paper mode).

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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import nats
import psycopg
import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from optbus.clock import ReplayClock
from optbus.runtime.service import ServiceRunner
from optbus.timestamps import datetime_from_ns
from optbus_brokers.angel_one.smartstream import EXCHANGE_TYPES, decode_frame
from optbus_brokers.feed import DroppedFrame, Instrument
from optbus_cli.main import app
from optbus_cli.servers import LocalNats
from optbus_execution.main import ExecutionSettings
from optbus_execution.main import build_app as build_execution
from optbus_market_data.feeds.registry import feed_factory
from optbus_market_data.feeds.validation import frame_reason_label
from optbus_market_data.main import MarketDataSettings, build_service
from optbus_risk.main import RiskSettings
from optbus_risk.main import build_app as build_risk
from optbus_strategy.main import StrategySettings
from optbus_strategy.main import build_app as build_strategy
from tests.brokers.angel_one_fake import AngelOneFake, encode_snap_quote
from tests.brokers.conftest import MARKET_DAY, MARKET_MORNING_NS
from tests.brokers.quote_model import ModelQuote

from .conftest import RunningService, eventually, start_greeks

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
    silenced: set[str] = field(default_factory=set)
    """Tokens the exchange stops quoting."""


async def _drive(session: AngelSession) -> None:
    fake = session.fake
    while True:
        session.clock.advance_to(session.clock.now_ns() + SECOND)
        if session.silenced:  # a round of every other token's quote
            for token in fake.subscribed_tokens() - session.silenced:
                await fake.send_raw(fake.snap_quote_frame(token))
        else:
            await fake.publish_round()
        await asyncio.sleep(0.25)


@contextlib.asynccontextmanager
async def _market_data_on_the_fake(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AngelSession]:
    """The fake quoting a round a market second, and market-data on ``angel-one`` following it.

    Each session's market starts an hour after the last one's, so their rows never share times.
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
        session = AngelSession(fake, clock, start_ns)
        driver = asyncio.create_task(_drive(session))
        try:
            yield session
        finally:
            driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver
            await running.stop()
        assert service.failures == []


@pytest.fixture
async def angel_session(
    nats_url: str, pipeline: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AngelSession]:
    """The fake and market-data following it, with greeks and persistence running."""
    async with _market_data_on_the_fake(nats_url, monkeypatch) as session:
        yield session


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


async def test_a_contract_the_exchange_stops_quoting_is_stored_stale_and_reported(
    angel_session: AngelSession, database_url: str
) -> None:
    fake = angel_session.fake
    await asyncio.wait_for(fake.wait_for_subscriptions(FOLLOWED), timeout=60)
    call = _atm_call(fake)

    async def quoted() -> bool:
        return bool(_atm_call_rows(database_url, angel_session.start_ns, "ok"))

    await eventually(quoted, within=60.0)

    angel_session.silenced.add(call.token)

    async def stored_stale() -> bool:
        rows = _atm_call_rows(database_url, angel_session.start_ns, "stale")
        return bool(rows) and all(row == (0.0, 0.0, None) for row in rows)

    async def reported() -> bool:
        return bool(
            _rows(
                database_url,
                "SELECT 1 FROM events WHERE type = 'md.feed.issue' "
                "AND payload->>'kind' = 'stale-contract' AND payload->>'detail' LIKE %s",
                (f"%token {call.token})%",),
            )
        )

    await eventually(stored_stale, within=60.0)
    await eventually(reported, within=30.0)


def _atm_call_rows(database_url: str, start_ns: int, iv_status: str) -> list[tuple[object, ...]]:
    """Bid, ask and iv of the stored rows of NIFTY's near ATM call with this ``iv_status``."""
    return _rows(
        database_url,
        "SELECT bid, ask, iv FROM option_ticks WHERE underlying = 'NIFTY' AND expiry = %s "
        "AND strike = %s AND option_type = 'CE' AND iv_status = %s AND time >= %s "
        "AND time < %s",
        (NIFTY_NEAR_EXPIRY, ATM, iv_status, datetime_from_ns(start_ns),
         datetime_from_ns(start_ns + HOUR)),
    )  # fmt: skip


ENTER_AT_ONCE = """
[[strategy]]
name = "paper_gamma_nifty"
kind = "gamma_scalping"
underlyings = ["NIFTY"]
[strategy.params]
min_score = 0.0
entry_after_open_minutes = 0.0
min_gamma = 0.0
min_last_price = 1.0
max_days_to_expiry = 35.0
cooldown_seconds = 0.0
max_hedges = 0
"""
"""A strategy that buys as soon as it sees a priced NIFTY chain (not a trading configuration)."""


async def _fills(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info("TRADING", subjects_filter="exec.fill")
    finally:
        await nc.close()
    return (info.state.subjects or {}).get("exec.fill", 0)


async def test_the_brokers_quotes_trade_on_paper_through_greeks_strategy_and_risk(
    own_nats: LocalNats, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = own_nats.url
    strategies = tmp_path / "strategies.toml"
    strategies.write_text(ENTER_AT_ONCE)
    strategy_settings = StrategySettings(nats_url=url, http_port=0, strategies_file=strategies)
    risk_settings = RiskSettings(nats_url=url, http_port=0)
    execution_settings = ExecutionSettings(nats_url=url, http_port=0, venue="paper")
    services = [
        await start_greeks(url).ready(),
        await RunningService(
            ServiceRunner(build_strategy(strategy_settings), strategy_settings)
        ).ready(),
        await RunningService(ServiceRunner(build_risk(risk_settings), risk_settings)).ready(),
        await RunningService(
            ServiceRunner(build_execution(execution_settings), execution_settings)
        ).ready(),
    ]
    try:
        released = await asyncio.to_thread(CliRunner().invoke, app, [
            "killswitch", "release", "--reason", "start of test", "--operator", "asha",
            "--nats-url", url,
        ])  # fmt: skip
        assert released.exit_code == 0, released.output
        async with _market_data_on_the_fake(url, monkeypatch):

            async def filled() -> bool:
                return await _fills(url) > 0

            await eventually(filled, within=60.0)
    finally:
        for service in reversed(services):
            await service.stop()
