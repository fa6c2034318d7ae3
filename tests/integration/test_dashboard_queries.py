"""Every SQL panel of the generated dashboards, run as Grafana would run it against a migrated
database holding a simulated session: market data, Greeks, signals, decisions (some refused by
an engaged kill switch), orders, fills, positions still open and closed trades, a data-quality
report and a registered model."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import Event, KillSwitchCommand
from optbus.market import load_market_facts
from optbus.routing import subject_of
from optbus.subjects import stream_of
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import Backtest
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore
from optbus_risk.config import DEFAULT_CONFIG_PATH
from optbus_trainer.quality import Thresholds
from optbus_trainer.quality_report import QualityWindow, record_report, run_quality_check
from optbus_trainer.registry import model_record
from optbus_trainer.registry_sql import record_registration

from ..conftest import fresh_database
from ..models import small_model
from ..test_deploy_manifests import GRAFANA
from .conftest import login_in_role

pytestmark = pytest.mark.integration

DAY = date(2026, 6, 1)
SEED = 7
"""The demo's session and seed (tests/e2e/test_demo.py): its strategies open and close trades
within the hour."""
SESSION_STEPS = 60 * 60
OPERATOR_COMMANDS = {
    4 * 60: KillSwitchCommand(action="engage", reason="before the open", operator="ops"),
    6 * 60: KillSwitchCommand(action="release", reason="checked", operator="ops"),
    40 * 60: KillSwitchCommand(action="engage", reason="flatten", operator="ops", flatten=True),
    42 * 60: KillSwitchCommand(action="release", reason="flat", operator="ops"),
}
"""By market second: risk refuses the first entries (strategies start five minutes after the
open), the flatten closes every position as trades, and the strategies enter again after."""
INTERVAL_SECONDS = 60
UNDERLYING = "NIFTY"
READER = "optbus_test_dashboard_reader"

EXPECTED_COLUMNS = {
    "Realised P&L": ["realised"],
    "Unrealised P&L, marked at mid": ["unrealised"],
    "Realised P&L, cumulative": ["time", "realised"],
    "Open positions with marks and Greeks": [
        "strategy", "underlying", "expiry", "strike", "option_type", "quantity",
        "average_price", "mark", "unrealised", "iv", "delta", "gamma", "theta", "vega",
        "marked_at",
    ],
    "Portfolio Greeks": ["time", "delta", "gamma", "theta", "vega"],
    "Closed trades": [
        "exit_time", "strategy", "underlying", "expiry", "strike", "option_type", "quantity",
        "entry_time", "entry_price", "exit_price", "net_pnl", "charges", "exit_reason",
        "entry_iv", "entry_delta", "entry_gamma", "entry_theta", "entry_vega",
        "exit_iv", "exit_delta", "exit_gamma", "exit_theta", "exit_vega", "model_version",
    ],
    "Risk rejections by check": ["time", "metric", "rejections"],
    "Kill-switch history": ["time", "action", "operator", "reason", "flatten"],
    "IV smile, nearest expiry ($underlying)": ["strike", "call IV", "put IV"],
    "ATM IV, nearest expiry ($underlying, minute bars)": ["time", "ATM IV"],
    "Feed latency": [
        "time", "source to market-data p50", "source to market-data p99",
        "source to stored p99",
    ],
    "Data-quality coverage by field": ["time", "metric", "coverage"],
    "Latest data-quality report": [
        "group", "field", "coverage", "threshold", "passed", "window_start", "window_end",
    ],
    "Model in force": [
        "model_version", "model_hash", "active_since", "status_reason", "train_first_day",
        "train_last_day", "rows", "auc", "log_loss", "brier",
    ],
}  # fmt: skip


def _risk_file_letting_strategies_reenter(directory: Path) -> Path:
    """Risk's settings with the consecutive-loss breaker out of reach: the flatten closes every
    position, at a loss, in one go; with the default limit that trips the breaker, nothing is
    opened again, and the open-positions panel would have nothing to show."""
    text = DEFAULT_CONFIG_PATH.read_text().replace(
        "max_consecutive_losses = ", "max_consecutive_losses = 1_000 #", 1
    )
    path = directory / "risk.toml"
    path.write_text(text)
    return path


def _session_events(risk_file: Path) -> list[Event]:
    """Every event of a simulated session through the live handlers, in the order made."""
    backtest = Backtest(BacktestConfig(run_id="live", risk_file=risk_file), load_market_facts())
    events: list[Event] = []

    def record(event: Event) -> list[Event]:
        events.append(event)
        return []

    backtest.bus.subscribe("dashboard-test", ">", record)
    risk = backtest.services.risk
    config = SimulatorConfig(seed=SEED, run_id="dashboard-test", start_date=DAY, days=1)
    ticks = ChainSimulator(config, load_market_facts(), ReplayClock()).ticks()
    for index in range(SESSION_STEPS):
        step = next(ticks)
        backtest.run([step])
        command = OPERATOR_COMMANDS.get(index)
        if command is not None:
            for event in risk.act_on_command(risk.decide_command(command, f"command-{index}")):
                backtest.bus.publish(event)
            backtest.bus.drain(lambda _subject, _event: None)
    return events


def _store(url: str, events: list[Event]) -> None:
    store = EventStore(url)
    batch = 2_000
    for start in range(0, len(events), batch):
        store.write([
            decode_stored(BusMessage(stream_of(subject).name, seq, subject, encode(e),
                                     e.ts_event, None))
            for seq, e in enumerate(events[start:start + batch], start=start + 1)
            for subject in [subject_of(e)]
        ])  # fmt: skip
    store.close()


@pytest.fixture(scope="module")
def session(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, datetime, datetime]]:
    """A migrated database holding the session, and the time range it spans."""
    events = _session_events(_risk_file_letting_strategies_reenter(tmp_path_factory.mktemp("risk")))
    first = datetime.fromtimestamp(events[0].ts_event / 1e9, UTC)
    last = datetime.fromtimestamp(events[-1].ts_event / 1e9, UTC)
    with fresh_database(postgres_admin_url, f"optbus_dashboards_{os.getpid()}") as url:
        migrate(url)
        _store(url, events)
        window = QualityWindow.between(first, last + timedelta(seconds=1))
        report = run_quality_check(url, window, Thresholds(), _FixedClock(events[-1].ts_event))
        record_report(url, report)
        model = small_model("dashboard-test-model").metadata
        record_registration(url, record=model_record(model), metadata=model, status="active",
                            reason="first model", previous_version=None,
                            now_ns=events[-1].ts_event)  # fmt: skip
        yield url, first, last + timedelta(minutes=1)


@pytest.fixture(scope="module")
def reader_url(session: tuple[str, datetime, datetime]) -> Iterator[str]:
    """The database as Grafana's user sees it: a login in the select-only role."""
    with login_in_role(session[0], READER, "optbus_reader") as url:
        yield url


class _FixedClock:
    def __init__(self, now_ns: int) -> None:
        self._now_ns = now_ns

    def now_ns(self) -> int:
        return self._now_ns


def grafana_sql(sql: str, start: datetime, end: datetime) -> str:
    """``sql`` with Grafana's PostgreSQL macros and the dashboard's variables expanded as
    Grafana expands them for the range ``[start, end]`` and a one-minute interval."""
    time_group = rf"floor(extract(epoch from \1)/{INTERVAL_SECONDS})*{INTERVAL_SECONDS}"
    expanded = re.sub(r"\$__timeGroupAlias\(([^,]+), \$__interval\)", time_group + ' AS "time"',
                      sql)  # fmt: skip
    expanded = re.sub(
        r"\$__timeFilter\(([^)]+)\)",
        rf"\1 BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'",
        expanded,
    )
    expanded = expanded.replace("$underlying", UNDERLYING)
    assert "$" not in expanded, f"a macro or variable left unexpanded: {expanded}"
    return expanded


def _sql_panels() -> list[tuple[str, str]]:
    panels: list[tuple[str, str]] = []
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        board: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for panel in board["panels"]:
            panels += [(panel["title"], t["rawSql"]) for t in panel.get("targets", [])
                       if "rawSql" in t]  # fmt: skip
    return panels


def test_every_sql_panel_is_checked_here() -> None:
    assert sorted(title for title, _ in _sql_panels()) == sorted(EXPECTED_COLUMNS)


@pytest.mark.parametrize(("title", "sql"), _sql_panels(), ids=[t for t, _ in _sql_panels()])
def test_each_sql_panel_returns_rows_of_its_columns_to_the_reader_role(
    session: tuple[str, datetime, datetime], reader_url: str, title: str, sql: str
) -> None:
    _, start, end = session
    with psycopg.connect(reader_url) as conn:
        cursor = conn.execute(grafana_sql(sql, start, end))  # type: ignore[call-overload]
        rows = cursor.fetchall()
        columns = [c.name for c in cursor.description or []]

    assert columns == EXPECTED_COLUMNS[title]
    assert rows, f"{title}: no rows"


def test_the_reader_role_cannot_write(reader_url: str) -> None:
    with psycopg.connect(reader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM trades")
