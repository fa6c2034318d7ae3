"""Stores real history imported by ``optbus import`` (today NSE's F&O bhavcopy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, fields

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
