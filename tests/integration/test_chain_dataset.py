"""Training sets from the database: recorded chains and closed trades, and ``optbus dataset``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from trainer_chains import DAY, EXPIRY, FACTS, MINUTE, NEXT_DAY, session, vix
from typer.testing import CliRunner

from optbus.codec import encode
from optbus.events import Contract, Event, MarketContext, ModelStamp, TradeClosed
from optbus.features import FEATURE_NAMES
from optbus.routing import subject_of
from optbus_cli.main import app
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore
from optbus_trainer.chains_dataset import ChainSampling, ChainSetBuilder
from optbus_trainer.parquet import read_metadata, read_training_set
from optbus_trainer.recorded import build_chain_set, closed_trades

from ..conftest import fresh_database

pytestmark = pytest.mark.integration

SAMPLING = ChainSampling(sample_minutes=5, horizon_minutes=15)
OPEN = datetime.fromtimestamp(FACTS.session_open_ns(DAY) / 1e9, tz=UTC)
STREAMS = {"greeks": "ANALYTICS", "md": "MD", "exec": "TRADING"}


def closed_trade(minute: int) -> TradeClosed:
    entry_ns = FACTS.session_open_ns(DAY) + minute * MINUTE
    context = MarketContext(ts=entry_ns, option_price=100.0, iv=0.14, delta=0.5, gamma=0.001,
                            theta=-5.0, vega=10.0, spot=26_000.0, forward=26_050.0,
                            india_vix=13.0, pcr=0.9, open_interest=1_000)  # fmt: skip
    features = dict.fromkeys(FEATURE_NAMES, 0.5)
    return TradeClosed(
        event_id=f"trade-{minute}", ts_event=entry_ns + 30 * MINUTE, ts_init=entry_ns,
        trade_id=f"t{minute}", position_id="p", strategy="short_strangle", group_id="g",
        contract=Contract(underlying="NIFTY", expiry=EXPIRY, strike=26_000.0, option_type="CE"),
        quantity=-65, entry_price=100.0, exit_price=90.0, entry=context, exit=context,
        model=ModelStamp(ml_score=0.5, model_version="v", model_hash="h", features=features),
        exit_reason="target", gross_pnl=690.0, charges=40.0, net_pnl=650.0,
    )  # fmt: skip


def recorded_events() -> list[Event]:
    return [vix(0, 13.5), *session(range(60)), *session(range(20), day=NEXT_DAY),
            closed_trade(10), closed_trade(100)]  # fmt: skip


@pytest.fixture(scope="module")
def recorded(postgres_admin_url: str) -> Iterator[str]:
    """A database holding two sessions of hand-made chains, a VIX tick and two closed trades,
    stored through the persistence service's own writer."""
    with fresh_database(postgres_admin_url, f"optbus_chain_set_{os.getpid()}") as url:
        migrate(url)
        messages = [
            BusMessage(STREAMS[subject_of(e).split(".")[0]], seq, subject_of(e), encode(e),
                       e.ts_event, e.event_id)
            for seq, e in enumerate(recorded_events(), start=1)
        ]  # fmt: skip
        store = EventStore(url)
        store.write([decode_stored(message) for message in messages])
        store.close()
        yield url


def test_the_chain_set_read_from_the_database_is_the_one_built_from_the_events(
    recorded: str,
) -> None:
    events = [e for e in recorded_events() if not isinstance(e, TradeClosed)]
    expected = ChainSetBuilder(FACTS, SAMPLING).observe_all(events)  # type: ignore[arg-type]

    rows = build_chain_set(recorded, OPEN - timedelta(hours=1), OPEN + timedelta(days=2), FACTS,
                           SAMPLING)  # fmt: skip

    assert rows.rows == expected.rows > 0
    assert np.array_equal(rows.x, expected.x)
    assert np.array_equal(rows.forward_return_pct, expected.forward_return_pct)
    assert rows.x[0, FEATURE_NAMES.index("india_vix")] == 13.5


def test_rows_come_from_the_window_and_labels_from_just_after_it(recorded: str) -> None:
    rows = build_chain_set(recorded, OPEN, OPEN + timedelta(minutes=10), FACTS, SAMPLING)

    minutes = sorted({(ts - FACTS.session_open_ns(DAY)) // MINUTE for ts in rows.ts_ns.tolist()})
    assert minutes == [0, 5]
    assert rows.rows == 2 * 4


def test_closed_trades_are_read_for_the_window_they_closed_in(recorded: str) -> None:
    trades = closed_trades(recorded, OPEN, OPEN + timedelta(hours=1))

    assert [trade.trade_id for trade in trades] == ["t10"]


def test_optbus_dataset_writes_the_chain_set_as_parquet(recorded: str, tmp_path: Path) -> None:
    out = tmp_path / "chains.parquet"

    result = CliRunner().invoke(app, [
        "dataset", "--source", "chains", "--from", OPEN.isoformat(),
        "--to", (OPEN + timedelta(hours=1)).isoformat(), "--horizon-minutes", "10",
        "--sample-minutes", "5", "--out", str(out), "--database-url", recorded,
    ])  # fmt: skip

    assert result.exit_code == 0, result.output
    meta = read_metadata(out)
    assert (meta.source, meta.days) == ("chains", [DAY])
    assert meta.sampling is not None
    assert meta.sampling.horizon_minutes == 10
    assert read_training_set(out).rows == meta.rows == 10 * 4  # minutes 0 .. 45 have a label
    assert "rows/s" in result.output


def test_optbus_dataset_writes_the_closed_trades_as_parquet(recorded: str, tmp_path: Path) -> None:
    out = tmp_path / "trades.parquet"

    result = CliRunner().invoke(app, [
        "dataset", "--source", "trades", "--from", str(DAY), "--to", str(NEXT_DAY + timedelta(1)),
        "--out", str(out), "--database-url", recorded,
    ])  # fmt: skip

    assert result.exit_code == 0, result.output
    data = read_training_set(out)
    assert (data.rows, data.winner.tolist(), data.days) == (2, [1, 1], (DAY,))


def test_an_empty_window_says_so_and_exits_2(recorded: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "dataset", "--source", "chains", "--from", str(date(2026, 1, 5)),
        "--to", str(date(2026, 1, 6)), "--out", str(tmp_path / "x.parquet"),
        "--database-url", recorded,
    ])  # fmt: skip

    assert result.exit_code == 2
    assert "no rows" in result.output


def test_an_unknown_source_is_refused(recorded: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "dataset", "--source", "ticks", "--from", str(DAY), "--to", str(NEXT_DAY),
        "--out", str(tmp_path / "x.parquet"), "--database-url", recorded,
    ])  # fmt: skip

    assert result.exit_code == 2
    assert "trades or chains" in result.output
