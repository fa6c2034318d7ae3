"""Counting, in the database, the rows that have each monitored field."""

from __future__ import annotations

import psycopg
from psycopg import sql

from optbus_trainer.quality import CHAIN_FIELDS, TRADE_FIELDS, QualityReport, Thresholds, assess

_QUOTED = {"bid", "ask"}


def _present(field: str) -> sql.Composable:
    column = sql.Identifier(field)
    condition = (
        sql.SQL("{} > 0").format(column)
        if field in _QUOTED
        else sql.SQL("{} IS NOT NULL").format(column)
    )
    return sql.SQL("count(*) FILTER (WHERE {})").format(condition)


def _counts(
    conn: psycopg.Connection, table: str, time_column: str, fields: tuple[str, ...], days: int
) -> tuple[dict[str, int], int]:
    query = sql.SQL(
        "SELECT count(*), {counts} FROM {table} "
        "WHERE {time} >= (SELECT max({time}) FROM {table}) - make_interval(days => %s)"
    ).format(
        counts=sql.SQL(", ").join(_present(f) for f in fields),
        table=sql.Identifier(table),
        time=sql.Identifier(time_column),
    )
    row = conn.execute(query, (days,)).fetchone()
    assert row is not None
    total, *present = row
    return dict(zip(fields, present, strict=True)), int(total)


def quality_report(database_url: str, days: int, thresholds: Thresholds) -> QualityReport:
    """Coverage over the last ``days`` days of data (counted back from the newest row)."""
    with psycopg.connect(database_url) as conn:
        trade_counts, trades = _counts(conn, "trades", "exit_time", TRADE_FIELDS, days)
        chain_counts, ticks = _counts(conn, "option_ticks", "time", CHAIN_FIELDS, days)
    return assess(trade_counts, trades, chain_counts, ticks, thresholds)
