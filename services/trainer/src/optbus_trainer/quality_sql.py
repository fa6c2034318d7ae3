"""Counting, in the database, the rows that have each monitored field."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from optbus import database
from optbus.features import FEATURE_NAMES
from optbus_trainer.quality import CHAIN_FIELDS, TRADE_FIELDS, QualityReport, Thresholds, assess

_QUOTED = {"bid", "ask"}


def _present(field: str) -> sql.Composable:
    column = sql.Identifier(field)
    if field in _QUOTED:
        condition = sql.SQL("{} > 0").format(column)
    elif field == "features":
        # A snapshot counts only when it holds every current feature: an older feature set
        # cannot be trained on.
        condition = sql.SQL("{} ?& {}::text[]").format(column, sql.Literal(list(FEATURE_NAMES)))
    else:
        condition = sql.SQL("{} IS NOT NULL").format(column)
    return sql.SQL("count(*) FILTER (WHERE {})").format(condition)


_EVERY_ROW = sql.SQL("true")
_OPTION_TRADES = sql.SQL("option_type <> 'FUT'")
"""The trades the trainer learns from: a futures hedge has no IV or option Greeks to cover."""


def _counts(
    conn: psycopg.Connection,
    table: str,
    time_column: str,
    fields: tuple[str, ...],
    window: tuple[datetime, datetime],
    only: sql.Composable = _EVERY_ROW,
) -> tuple[dict[str, int], int]:
    query = sql.SQL(
        "SELECT count(*), {counts} FROM {table} WHERE {time} >= %s AND {time} < %s AND {only}"
    ).format(
        counts=sql.SQL(", ").join(_present(f) for f in fields),
        table=sql.Identifier(table),
        time=sql.Identifier(time_column),
        only=only,
    )
    row = conn.execute(query, window).fetchone()
    assert row is not None
    total, *present = row
    return dict(zip(fields, present, strict=True)), int(total)


def _newest(conn: psycopg.Connection, table: str, time_column: str) -> datetime | None:
    query = sql.SQL("SELECT max({}) FROM {}").format(
        sql.Identifier(time_column), sql.Identifier(table)
    )
    row = conn.execute(query).fetchone()
    return None if row is None else row[0]


def quality_report_between(
    database_url: str, start: datetime, end: datetime, thresholds: Thresholds
) -> QualityReport:
    """Coverage of the trades closed and the ticks recorded in ``[start, end)``."""
    with database.connect(database_url) as conn:
        trade_counts, trades = _counts(
            conn, "trades", "exit_time", TRADE_FIELDS, (start, end), _OPTION_TRADES
        )
        chain_counts, ticks = _counts(conn, "option_ticks", "time", CHAIN_FIELDS, (start, end))
    return assess(trade_counts, trades, chain_counts, ticks, thresholds)


def latest_data_window(database_url: str, days: int) -> tuple[datetime, datetime] | None:
    """The last ``days`` days of data, ending just after the newest trade or tick (None when
    there is neither): a window that finds recorded or simulated sessions of any date."""
    with database.connect(database_url) as conn:
        newest = [_newest(conn, "trades", "exit_time"), _newest(conn, "option_ticks", "time")]
    known = [moment for moment in newest if moment is not None]
    if not known:
        return None
    end = max(known) + timedelta(microseconds=1)
    return end - timedelta(days=days), end


def quality_report(database_url: str, days: int, thresholds: Thresholds) -> QualityReport:
    """Coverage over the last ``days`` days of data (counted back from the newest row)."""
    window = latest_data_window(database_url, days)
    if window is None:
        return assess(dict.fromkeys(TRADE_FIELDS, 0), 0, dict.fromkeys(CHAIN_FIELDS, 0), 0,
                      thresholds)  # fmt: skip
    return quality_report_between(database_url, *window, thresholds)
