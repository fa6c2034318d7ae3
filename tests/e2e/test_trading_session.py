"""A simulated session traded end to end: closed trades complete, priced from the market."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from optbus_risk.config import DEFAULT_CONFIG_PATH

from ..conftest import fresh_database

pytestmark = pytest.mark.e2e

MINUTES = 30


@pytest.fixture(scope="module")
def trading_database(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, f"optbus_trading_test_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="module")
def quick_exit_risk_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default limits, but positions are closed after five minutes so trades complete."""
    text = DEFAULT_CONFIG_PATH.read_text()
    path = tmp_path_factory.mktemp("risk") / "risk.toml"
    path.write_text(re.sub(r"max_holding_minutes = [\d_]+", "max_holding_minutes = 5", text))
    return path


@pytest.fixture(scope="module")
def session(
    nats_url: str, trading_database: str, quick_exit_risk_config: Path
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "NATS_URL": nats_url, "DATABASE_URL": trading_database, "COLUMNS": "160",
        "OPTBUS_RISK_CONFIG_FILE": str(quick_exit_risk_config),
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "optbus_cli.main", "demo", "--minutes", str(MINUTES),
         "--speed", "60"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_the_session_closes_trades(
    session: subprocess.CompletedProcess[str], trading_database: str
) -> None:
    assert session.returncode == 0, session.stdout + session.stderr
    assert _rows(trading_database, "SELECT count(*) FROM trades")[0][0] > 0


def test_every_closed_trade_has_every_entry_and_exit_field(
    session: subprocess.CompletedProcess[str], trading_database: str
) -> None:
    columns = [
        f"{side}_{field}" for side in ("entry", "exit")
        for field in ("time", "price", "iv", "delta", "gamma", "theta", "vega", "spot",
                      "forward", "india_vix", "pcr", "open_interest")
    ] + ["model_version", "model_hash", "features"]  # fmt: skip
    missing = " OR ".join(f"{column} IS NULL" for column in columns)
    # A futures hedge has no implied volatility: only option trades carry every field.
    options = f"option_type <> 'FUT' AND ({missing})"

    assert _rows(trading_database, f"SELECT count(*) FROM trades WHERE {options}")[0][0] == 0


def test_net_pnl_is_gross_pnl_minus_charges(
    session: subprocess.CompletedProcess[str], trading_database: str
) -> None:
    off = _rows(
        trading_database,
        "SELECT count(*) FROM trades WHERE abs(net_pnl - (gross_pnl - charges)) > 1e-6",
    )

    assert off[0][0] == 0


def test_exit_fills_are_priced_from_the_quote_at_exit_time(
    session: subprocess.CompletedProcess[str], trading_database: str
) -> None:
    mismatched = _rows(
        trading_database,
        """
        SELECT count(*), count(*) FILTER (WHERE q.bid IS DISTINCT FROM f.bid
               OR q.ask IS DISTINCT FROM f.ask OR f.price < f.bid - (f.ask - f.bid) - 0.05
               OR f.price > f.ask + (f.ask - f.bid) + 0.05)
        FROM trades t
        JOIN fills f ON f.underlying = t.underlying AND f.expiry = t.expiry
             AND f.strike = t.strike AND f.option_type = t.option_type AND f.time = t.exit_time
        LEFT JOIN option_ticks q ON q.time = f.time AND q.underlying = f.underlying
             AND q.expiry = f.expiry AND q.strike = f.strike AND q.option_type = f.option_type
        """,
    )

    exit_fills, off_quote = mismatched[0]
    assert exit_fills > 0
    assert off_quote == 0


def test_the_demo_prints_the_trading_summary(session: subprocess.CompletedProcess[str]) -> None:
    assert "closed trades" in session.stdout
    assert "tick to order accepted, p50" in session.stdout
