"""Backtest runs in the database: ``backtest_runs`` and ``backtest_trades``, by run id.

Saving a run id that is already stored replaces it (its trades go with it), in one
transaction. The figures are stored as the report's JSON, so a stored run reads back into the
very RunPerformance that made its report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from optbus import database
from optbus.codec import encode
from optbus.events import TradeClosed
from optbus_backtest.performance import RunPerformance
from optbus_backtest.report import figures_json

_TRADE_COLUMNS = (
    "run_id, seq, trade_id, strategy, underlying, expiry, strike, option_type, quantity, "
    "entry_time, exit_time, entry_price, exit_price, exit_reason, gross_pnl, charges, net_pnl, "
    "payload, exit_kind"
)


class StoreError(RuntimeError):
    """The run could not be stored or read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as it is stored."""

    run_id: str
    source: str
    config_json: bytes
    trade_log_sha256: str
    performance: RunPerformance


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One run as it was read back."""

    run_id: str
    created: datetime
    source: str
    config: dict[str, Any]
    trade_log_sha256: str
    performance: RunPerformance


def where(database_url: str) -> str:
    """The database of a URL, without its password: ``host:port/dbname``."""
    try:
        parts = conninfo_to_dict(database_url)
    except psycopg.ProgrammingError:
        return "(an unreadable database URL)"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def connect(database_url: str) -> psycopg.Connection[Any]:
    """A connection to the database, or StoreError saying that none answers."""
    try:
        return database.connect(database_url)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"no database answers at {where(database_url)}: {reason}") from None


def _check_tables(conn: psycopg.Connection[Any], database_url: str) -> None:
    row = conn.execute("SELECT to_regclass('backtest_runs') IS NOT NULL").fetchone()
    if not row or not row[0]:
        raise StoreError(
            f"the database at {where(database_url)} has no backtest tables: "
            "run `optbus db migrate` first"
        )


def save_run(database_url: str, record: RunRecord) -> bool:
    """Store ``record`` under its run id; True when it replaced a run of that id."""
    with connect(database_url) as conn:
        _check_tables(conn, database_url)
        with conn.transaction():
            replaced = conn.execute(
                "DELETE FROM backtest_runs WHERE run_id = %s", (record.run_id,)
            ).rowcount
            conn.execute(
                "INSERT INTO backtest_runs (run_id, source, config, trade_log_sha256, figures) "
                "VALUES (%s, %s, %s::jsonb, %s, %s::jsonb)",
                (record.run_id, record.source, record.config_json.decode(),
                 record.trade_log_sha256, figures_json(record.performance).decode()),
            )  # fmt: skip
            with conn.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO backtest_trades ({_TRADE_COLUMNS}) VALUES "
                    f"({', '.join(['%s'] * 19)})",
                    [_trade_row(record.run_id, seq, t)
                     for seq, t in enumerate(record.performance.trade_list)],
                )  # fmt: skip
    return replaced > 0


def _trade_row(run_id: str, seq: int, trade: TradeClosed) -> tuple[object, ...]:
    c = trade.contract
    return (
        run_id, seq, trade.trade_id, trade.strategy, c.underlying, c.expiry, c.strike,
        c.option_type, trade.quantity, _moment(trade.entry.ts), _moment(trade.exit.ts),
        trade.entry_price, trade.exit_price, trade.exit_reason, trade.gross_pnl, trade.charges,
        trade.net_pnl, Jsonb(trade, dumps=_encoded), trade.exit_kind,
    )  # fmt: skip


def _encoded(trade: TradeClosed) -> str:
    return encode(trade).decode()


def _moment(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)


def load_run(database_url: str, run_id: str) -> StoredRun | None:
    """The stored run ``run_id``, or None when no run has that id."""
    with connect(database_url) as conn:
        _check_tables(conn, database_url)
        row = conn.execute(
            "SELECT created, source, config::text, trade_log_sha256, figures::text "
            "FROM backtest_runs WHERE run_id = %s",
            (run_id,),
        ).fetchone()
    if row is None:
        return None
    created, source, config, sha, figures = row
    return StoredRun(
        run_id=run_id,
        created=created,
        source=source,
        config=msgspec.json.decode(config),
        trade_log_sha256=sha,
        performance=msgspec.json.decode(figures, type=RunPerformance),
    )


def store_run(database_url: str, record: RunRecord, store: bool | None) -> str:
    """Store the run as ``store`` asks (True: must, None: if the database answers, False: no).

    Returns what happened, in words; raises StoreError only when storing was required.
    """
    if store is False:
        return "not stored in the database (--no-store)"
    try:
        replaced = save_run(database_url, record)
    except StoreError as exc:
        if store:
            raise
        return f"not stored in the database: {exc} (--store makes this an error)"
    done = f"stored as run {record.run_id!r} in the database at {where(database_url)}"
    return f"{done}, replacing the earlier run of that id" if replaced else done
