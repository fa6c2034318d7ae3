"""Writes batches of decoded messages to PostgreSQL with COPY, exactly once per (stream, seq)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from optbus import database
from optbus.trading_tables import JSON_COLUMNS, TableRow
from optbus_persistence.rows import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    LIVE_RUN_ID,
    OPTION_TICK_COLUMNS,
    OPTION_TICK_TYPES,
    StoredEvent,
)
from optbus_persistence.schema import SchemaMissing, StorageMode, read_mode


@dataclass(frozen=True)
class WriteResult:
    """What one batch write did."""

    events: int
    option_ticks: int
    duplicates: int

    def __add__(self, other: WriteResult) -> WriteResult:
        """What two writes did together (a batch written in parts)."""
        return WriteResult(
            self.events + other.events,
            self.option_ticks + other.option_ticks,
            self.duplicates + other.duplicates,
        )


class EventStore:
    """One database connection that writes batches in single transactions.

    Every ``events`` row carries ``run_id``. The live run also fills the tables derived from
    the events (option ticks, trading tables); a replay run stores only its events, because
    its event ids repeat those of the live session it replays.

    Synchronous on purpose: the service runs it in a worker thread, and psycopg's sync COPY is
    the fastest path. Reconnects on the next batch after the database went away.
    """

    def __init__(self, database_url: str, run_id: str = LIVE_RUN_ID) -> None:
        self._database_url = database_url
        self._run_id = run_id
        self._conn: psycopg.Connection | None = None
        self._mode: StorageMode | None = None
        self._partitions: set[tuple[str, date]] = set()

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = database.connect(self._database_url)
            self._mode = read_mode(self._conn)
            self._conn.commit()
        return self._conn

    def close(self) -> None:
        """Close the connection, if open."""
        if self._conn is not None:
            self._conn.close()

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            self._connection().execute("SELECT 1")
            self._connection().commit()
        except (psycopg.Error, SchemaMissing):
            return False
        return True

    def write(self, batch: Sequence[StoredEvent]) -> WriteResult:
        """Store every message of ``batch`` not stored yet, all in one transaction."""
        conn = self._connection()
        with conn.transaction():
            fresh = self._not_yet_stored(conn, batch)
            event_rows = [_event_copy_row(stored.event_row, self._run_id) for stored in fresh]
            live = self._run_id == LIVE_RUN_ID
            tick_rows = [row for stored in fresh for row in stored.tick_rows] if live else []
            self._ensure_partitions(conn, event_rows, tick_rows)
            _copy(conn, "events", EVENT_COLUMNS, EVENT_TYPES, event_rows)
            _copy(conn, "option_ticks", OPTION_TICK_COLUMNS, OPTION_TICK_TYPES, tick_rows)
            if live:
                trading_rows = [stored.trading_row for stored in fresh if stored.trading_row]
                _insert_trading_rows(conn, trading_rows)
        return WriteResult(len(event_rows), len(tick_rows), len(batch) - len(fresh))

    def _not_yet_stored(
        self, conn: psycopg.Connection, batch: Sequence[StoredEvent]
    ) -> list[StoredEvent]:
        keys = [(stored.message.stream, stored.message.seq) for stored in batch]
        if not keys:
            return []
        stored_keys = set(
            conn.execute(
                "SELECT stream, seq FROM events WHERE run_id = %s AND (stream, seq) IN "
                "(SELECT * FROM unnest(%s::text[], %s::int8[]))",
                (self._run_id, [stream for stream, _ in keys], [seq for _, seq in keys]),
            ).fetchall()
        )
        seen: set[tuple[str, int]] = set()
        fresh = []
        for stored, key in zip(batch, keys, strict=True):
            if key not in stored_keys and key not in seen:
                seen.add(key)
                fresh.append(stored)
        return fresh

    def _ensure_partitions(
        self,
        conn: psycopg.Connection,
        event_rows: Iterable[tuple[Any, ...]],
        tick_rows: Iterable[tuple[Any, ...]],
    ) -> None:
        if self._mode is not StorageMode.POSTGRES:
            return
        needed = {("events", row[0].date()) for row in event_rows}
        needed |= {("option_ticks", row[0].date()) for row in tick_rows}
        missing = needed - self._partitions
        if not missing:
            return
        for table, day in sorted(missing):
            conn.execute("SELECT optbus_ensure_day_partition(%s, %s)", (table, day))
        self._partitions |= missing


def _insert_trading_rows(conn: psycopg.Connection, rows: Sequence[TableRow]) -> None:
    """Trading events also land in their own table; low volume, so plain idempotent INSERTs."""
    by_table: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = {}
    for row in rows:
        columns = tuple(row.values)
        by_table.setdefault((row.table, columns), []).append(_adapted(row))
    for (table, columns), values in by_table.items():
        statement = sql.SQL(
            "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT (event_id) DO NOTHING"
        ).format(
            table=sql.Identifier(table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
        with conn.cursor() as cursor:
            cursor.executemany(statement, values)


def _adapted(row: TableRow) -> tuple[Any, ...]:
    """The row's values as psycopg writes them: the JSON columns' values wrapped as jsonb."""
    return tuple(
        Jsonb(value) if column in JSON_COLUMNS and value is not None else value
        for column, value in row.values.items()
    )


def _already_json(payload: bytes) -> bytes:
    return payload


def _event_copy_row(row: tuple[Any, ...], run_id: str) -> tuple[Any, ...]:
    """An ``events`` row as COPY writes it: the payload column is the message's JSON as
    received (or as sanitised), stored as-is, never re-encoded; then the run id."""
    *columns, payload, raw_payload = row
    return (*columns, Jsonb(payload, dumps=_already_json), raw_payload, run_id)


def _copy(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    if not rows:
        return
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with conn.cursor().copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)
