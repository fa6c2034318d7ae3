"""The data-quality monitor counted in PostgreSQL on hand-made trades and chains with known gaps,
its report stored as a row, published on control.dq, and `optbus dq`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import msgspec
import nats
import psycopg
import pytest
from trainer_chains import DAY, EXPIRY, FACTS, MINUTE, chain
from typer.testing import CliRunner

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import (
    Contract,
    DataQualityReported,
    Event,
    MarketContext,
    ModelStamp,
    SideGreeks,
    TradeClosed,
)
from optbus.features import FEATURE_NAMES
from optbus.routing import subject_of
from optbus_cli.main import app
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore
from optbus_trainer.quality import CHAIN_FIELDS, TRADE_FIELDS, Thresholds
from optbus_trainer.quality_report import QualityWindow, record_report, run_quality_check
from optbus_trainer.quality_sql import quality_report

from ..conftest import fresh_database

pytestmark = pytest.mark.integration

TRADE_ROW = """
INSERT INTO trades VALUES (
  now(), %(id)s, %(id)s, 'p', 'short_strangle', 'g', 'NIFTY', '2026-12-29', 26000, 'CE', -65,
  now() - interval '1 hour', 100, %(entry_iv)s, 0.5, 0.001, -9, 12, 26000, 26040, 13, 0.9, 1000,
  now(), 90, 0.13, 0.4, 0.001, -8, 11, 26010, 26050, 13.1, 0.92, 1100,
  'baseline-v1', 'abc', '{}'::jsonb, 'target', 650, 60, 590
)"""


@pytest.fixture
def trades_with_gaps(postgres_admin_url: str) -> Iterator[str]:
    """Twenty trades, two of them without an entry IV (90% coverage)."""
    with fresh_database(postgres_admin_url, f"optbus_dq_test_{os.getpid()}") as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            for n in range(20):
                conn.execute(TRADE_ROW, {"id": f"t{n}", "entry_iv": None if n < 2 else 0.14})
        yield url


def test_a_field_missing_in_two_of_twenty_trades_covers_ninety_percent(
    trades_with_gaps: str,
) -> None:
    report = quality_report(trades_with_gaps, days=5, thresholds=Thresholds())

    coverage = next(c for c in report.coverages if c.field == "entry_iv")
    assert (coverage.present, coverage.total) == (18, 20)


def test_that_gap_fails_the_95_percent_threshold(trades_with_gaps: str) -> None:
    report = quality_report(trades_with_gaps, days=5, thresholds=Thresholds())

    assert "entry_iv" in [c.field for c in report.failures]


OPEN_NS = FACTS.session_open_ns(DAY)
WINDOW = QualityWindow(OPEN_NS - 86_400 * 10**9, OPEN_NS + 86_400 * 10**9)
STREAMS = {"greeks": "ANALYTICS", "exec": "TRADING"}
KNOWN_GAPS = {
    **{f"exit_{g}": (18, 20) for g in ("iv", "delta", "gamma", "theta", "vega")},
    "model_version": (19, 20), "model_hash": (19, 20), "features": (18, 20),
    "entry_india_vix": (19, 20), "exit_pcr": (19, 20),
    **{g: (38, 40) for g in ("iv", "delta", "gamma", "theta", "vega")}, "bid": (39, 40),
}  # fmt: skip
"""(present, total) of the fields with gaps; every other field is complete."""
BELOW_95 = {name for name, (present, total) in KNOWN_GAPS.items()
            if name in TRADE_FIELDS and present / total < 0.95}  # fmt: skip
"""The trade fields those gaps put below the 95% threshold (19 of 20 is still 95%)."""


def _context(ts: int, *, greeks: bool = True, vix: float | None = 13.0,
             pcr: float | None = 0.9) -> MarketContext:  # fmt: skip
    g = (0.14, 0.5, 0.001, -5.0, 10.0) if greeks else (None,) * 5
    return MarketContext(ts=ts, option_price=100.0, iv=g[0], delta=g[1], gamma=g[2], theta=g[3],
                         vega=g[4], spot=26_000.0, forward=26_050.0, india_vix=vix, pcr=pcr,
                         open_interest=1_000)  # fmt: skip


def hand_made_trade(n: int) -> TradeClosed:
    """Trades 0-1 lack exit Greeks, 2 a model stamp, 3 a current feature set, 4 the entry
    India VIX and the exit PCR."""
    entry_ns = OPEN_NS + n * MINUTE
    features = dict.fromkeys(FEATURE_NAMES[: -1 if n == 3 else None], 0.5)
    stamp = ModelStamp(ml_score=0.5, model_version="v1", model_hash="h1", features=features)
    return TradeClosed(
        event_id=f"dq-trade-{n}", ts_event=entry_ns + 20 * MINUTE, ts_init=entry_ns,
        trade_id=f"t{n}", position_id=f"p{n}", strategy="short_strangle", group_id="g",
        contract=Contract(underlying="NIFTY", expiry=EXPIRY, strike=26_000.0, option_type="CE"),
        quantity=-65, entry_price=100.0, exit_price=90.0,
        entry=_context(entry_ns, vix=None if n == 4 else 13.0),
        exit=_context(entry_ns + 20 * MINUTE, greeks=n >= 2, pcr=None if n == 4 else 0.9),
        model=None if n == 2 else stamp, exit_reason="target", gross_pnl=690.0, charges=40.0,
        net_pnl=650.0,
    )  # fmt: skip


def hand_made_chains() -> list[Event]:
    """Ten chains of four options: the calls of the first have no Greeks, one bid is missing."""
    chains = [chain(minute) for minute in range(10)]
    no_greeks = SideGreeks(iv=[None, None], delta=[None, None], gamma=[None, None],
                           theta=[None, None], vega=[None, None], rho=[None, None],
                           iv_status=["no_price", "no_price"])  # fmt: skip
    chains[0] = msgspec.structs.replace(chains[0], calls=no_greeks)
    puts = msgspec.structs.replace(
        chains[1].snapshot.puts, bid=[0.0, chains[1].snapshot.puts.bid[1]]
    )
    chains[1] = msgspec.structs.replace(
        chains[1], snapshot=msgspec.structs.replace(chains[1].snapshot, puts=puts)
    )
    return list(chains)


@pytest.fixture(scope="module")
def gaps_db(postgres_admin_url: str) -> Iterator[str]:
    """Twenty trades and ten chains with known gaps, stored by the persistence writer."""
    with fresh_database(postgres_admin_url, f"optbus_dq_gaps_{os.getpid()}") as url:
        migrate(url)
        events = [*hand_made_chains(), *(hand_made_trade(n) for n in range(20))]
        messages = [
            BusMessage(STREAMS[subject_of(e).split(".")[0]], seq, subject_of(e), encode(e),
                       e.ts_event, e.event_id)
            for seq, e in enumerate(events, start=1)
        ]  # fmt: skip
        store = EventStore(url)
        store.write([decode_stored(message) for message in messages])
        store.close()
        yield url


def test_coverage_counts_the_known_gaps_of_every_kind_of_field(gaps_db: str) -> None:
    report = run_quality_check(gaps_db, WINDOW, Thresholds(), ReplayClock(OPEN_NS))

    counts = {check.name: (check.present, check.total) for check in report.checks}
    expected = {field: (20, 20) for field in TRADE_FIELDS} | {f: (40, 40) for f in CHAIN_FIELDS}
    assert counts == expected | KNOWN_GAPS


def test_the_report_fails_on_the_trade_gaps_but_not_on_the_chain_gaps(gaps_db: str) -> None:
    report = run_quality_check(gaps_db, WINDOW, Thresholds(), ReplayClock(OPEN_NS))

    failed = {check.name for check in report.checks if not check.passed}
    assert failed == BELOW_95
    assert report.passed is False


def test_a_window_before_the_data_holds_nothing_and_fails(gaps_db: str) -> None:
    window = QualityWindow.ending(WINDOW.start_ns, days=5)

    report = run_quality_check(gaps_db, window, Thresholds(), ReplayClock(OPEN_NS))

    assert {check.total for check in report.checks} == {0}
    assert report.passed is False


def test_the_report_is_stored_once_as_a_row(gaps_db: str) -> None:
    report = run_quality_check(gaps_db, WINDOW, Thresholds(), ReplayClock(OPEN_NS + 1))

    first, again = record_report(gaps_db, report), record_report(gaps_db, report)

    with psycopg.connect(gaps_db) as conn:
        row = conn.execute(
            "SELECT passed, failed_checks, window_start, jsonb_array_length(checks) "
            "FROM data_quality_reports WHERE event_id = %s", (report.event_id,),
        ).fetchone()  # fmt: skip
    assert (first, again) == (True, False)
    assert row is not None
    assert row[0] is False
    assert set(row[1]) == BELOW_95
    assert row[2] == datetime.fromtimestamp(WINDOW.start_ns / 1e9, tz=UTC)
    assert row[3] == len(TRADE_FIELDS) + len(CHAIN_FIELDS)


def _stored_reports(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM data_quality_reports").fetchone()
    assert row is not None
    return int(row[0])


async def _last_published(nats_url: str) -> DataQualityReported:
    nc = await nats.connect(nats_url)
    try:
        message = await nc.jetstream().get_last_msg("CONTROL", "control.dq")
    finally:
        await nc.close()
    return msgspec.json.decode(message.data or b"", type=DataQualityReported)


def test_optbus_dq_prints_stores_and_publishes_the_report_and_exits_1(
    gaps_db: str, nats_url: str
) -> None:
    before = _stored_reports(gaps_db)

    result = CliRunner().invoke(app, ["dq", "--database-url", gaps_db, "--nats-url", nats_url])

    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output
    assert "exit_iv" in result.output
    assert _stored_reports(gaps_db) == before + 1
    published = asyncio.run(_last_published(nats_url))
    assert published.passed is False
    assert published.window_end - published.window_start == 5 * 86_400 * 10**9


def test_optbus_dq_passes_with_lower_thresholds_and_without_a_bus(gaps_db: str) -> None:
    result = CliRunner().invoke(app, [
        "dq", "--database-url", gaps_db, "--nats-url", "nats://127.0.0.1:1",
        "--trades-threshold", "0.85", "--chains-threshold", "0.5",
    ])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "data quality passed" in result.output
    assert "not published" in result.output
    assert "stored" in result.output


def test_the_window_of_optbus_dq_ends_with_the_newest_data(gaps_db: str) -> None:
    newest = datetime.fromtimestamp((OPEN_NS + 39 * MINUTE) / 1e9, tz=UTC)

    result = CliRunner().invoke(app, ["dq", "--database-url", gaps_db, "--no-publish"])

    event_id = result.output.split("report ")[1].split()[0]
    with psycopg.connect(gaps_db) as conn:
        row = conn.execute(
            "SELECT window_end FROM data_quality_reports WHERE event_id = %s", (event_id,)
        ).fetchone()
    assert row is not None
    assert row[0] - newest == timedelta(microseconds=1)
