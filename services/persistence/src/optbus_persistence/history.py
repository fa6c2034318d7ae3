"""Stores real history imported by ``optbus import`` (today NSE's F&O bhavcopy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, fields
from datetime import date
from typing import LiteralString

import psycopg
from psycopg import sql

from optbus.bhavcopy import BhavcopyRow

BHAVCOPY_COLUMNS = (*(field.name for field in fields(BhavcopyRow)), "source_file")


def store_bhavcopy(conn: psycopg.Connection, rows: Sequence[BhavcopyRow], source_file: str) -> int:
    """Store the rows of one bhavcopy file in one transaction; returns how many were new.

    A contract already stored for its trading day (the same file imported again) is left as it
    is: the bhavcopy of a past day is final.
    """
    columns = sql.SQL(", ").join(map(sql.Identifier, BHAVCOPY_COLUMNS))
    with conn.transaction():
        conn.execute("CREATE TEMPORARY TABLE fo_bhavcopy_staging (LIKE fo_bhavcopy) ON COMMIT DROP")
        with conn.cursor().copy(
            sql.SQL("COPY fo_bhavcopy_staging ({}) FROM STDIN").format(columns)
        ) as copy:
            for row in rows:
                copy.write_row((*astuple(row), source_file))
        inserted = conn.execute(
            sql.SQL(
                "INSERT INTO fo_bhavcopy ({columns}) SELECT {columns} FROM fo_bhavcopy_staging "
                "ON CONFLICT (trade_date, instrument_id) DO NOTHING"
            ).format(columns=columns)
        )
        return inserted.rowcount


def load_index_option_days(
    conn: psycopg.Connection, underlying: str, until: date, days: int
) -> list[list[BhavcopyRow]]:
    """The index-option rows of ``underlying`` on each of its last ``days`` trading days in
    the table up to ``until``, a list per day, oldest first (what IV rank reads)."""
    rows = _select(
        conn,
        "underlying = %(u)s AND instrument_type = 'IDO' AND trade_date IN ("
        "SELECT DISTINCT trade_date FROM fo_bhavcopy WHERE underlying = %(u)s "
        "AND instrument_type = 'IDO' AND trade_date <= %(until)s "
        "ORDER BY trade_date DESC LIMIT %(days)s) ORDER BY trade_date",
        {"u": underlying, "until": until, "days": days},
    )
    by_day: dict[date, list[BhavcopyRow]] = {}
    for row in rows:
        by_day.setdefault(row.trade_date, []).append(row)
    return list(by_day.values())


def load_index_day(conn: psycopg.Connection, underlying: str, on: date | None) -> list[BhavcopyRow]:
    """The index options and futures of ``underlying`` on ``on`` (by default its latest day
    with options in the table), what the term structure reads; empty when there are none."""
    return _select(
        conn,
        "underlying = %(u)s AND instrument_type IN ('IDO', 'IDF') AND trade_date = "
        "coalesce(%(on)s::date, (SELECT max(trade_date) FROM fo_bhavcopy "
        "WHERE underlying = %(u)s AND instrument_type = 'IDO'))",
        {"u": underlying, "on": on},
    )


def _select(
    conn: psycopg.Connection, where: LiteralString, params: dict[str, object]
) -> list[BhavcopyRow]:
    row_columns = sql.SQL(", ").join(map(sql.Identifier, BHAVCOPY_COLUMNS[:-1]))
    query = sql.SQL("SELECT {columns} FROM fo_bhavcopy WHERE ").format(columns=row_columns)
    return [BhavcopyRow(*values) for values in conn.execute(query + sql.SQL(where), params)]
