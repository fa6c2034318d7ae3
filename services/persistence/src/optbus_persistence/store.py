"""Writes batches of decoded messages to PostgreSQL with COPY, each event once per run.

Identity is the event's, never its place on the bus: a new JetStream store starts its sequences
again at 1, and a producer restarted after the duplicate window sends the same events at new
sequences. What is stored already (an event by its run and id, an option tick by its contract
and time) is skipped by the database's own keys, and counted.

Each batch is first copied straight into its tables, under a savepoint: almost every batch holds
nothing stored already, and one COPY is the cheapest write there is. When a key is taken (a
redelivery), the savepoint undoes that COPY and the batch goes the careful way: copied into a
temporary table and moved with ``INSERT ... ON CONFLICT DO NOTHING``, which writes every row
twice. After a batch that held duplicates, the next one of that table goes the careful way at
once (duplicates come in runs: a redelivered backlog, a new JetStream store), until one holds
none again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
from optbus_persistence.schema import StorageMode, read_mode


@dataclass(frozen=True)
class WriteResult:
    """What one batch write did: rows stored, and the messages not stored because their event
    was stored already, by stream."""

    events: int
    option_ticks: int
    duplicates: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: WriteResult) -> WriteResult:
        """What two writes did together (a batch written in parts)."""
        return WriteResult(
            self.events + other.events,
            self.option_ticks + other.option_ticks,
            dict(Counter(self.duplicates) + Counter(other.duplicates)),
        )


class EventStore:
    """Writes batches to the database, each table's rows of a batch in one transaction.

    Every ``events`` row carries ``run_id``. The live run also fills the tables derived from
    the events (option ticks, trading tables); a replay run stores only its events, because
    its event ids repeat those of the live session it replays.

    Two connections: one for the events and trading rows, one for the option ticks, written
    at the same time from two threads, so the database parses a batch's JSON payloads on one
    core while it indexes its option rows on another. The two commits are not one: a batch cut
    between them is stored whole by its redelivery, whose rows stored already are skipped.

    Synchronous on purpose: the service runs it in a worker thread, and psycopg's sync COPY is
    the fastest path. Reconnects on the next batch after the database went away.
    """

    def __init__(self, database_url: str, run_id: str = LIVE_RUN_ID) -> None:
        self._database_url = database_url
        self._run_id = run_id
        self._conns: dict[str, psycopg.Connection] = {}
        self._mode: StorageMode | None = None
        self._partitions: set[tuple[str, date]] = set()
        self._duplicates_expected: set[str] = set()
        self._ticks_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="option-ticks")

    def _connection(self, table: str) -> psycopg.Connection:
        """The connection that writes ``table`` (with its staging table), opened if need be."""
        conn = self._conns.get(table)
        if conn is None or conn.closed or conn.broken:
            conn = database.connect(self._database_url)
            try:
                self._mode = read_mode(conn)
                conn.execute(
                    sql.SQL(
                        "CREATE TEMPORARY TABLE {staging} (LIKE {table} INCLUDING DEFAULTS) "
                        "ON COMMIT DELETE ROWS"
                    ).format(staging=_staging(table), table=sql.Identifier(table))
                )
                conn.commit()
            except BaseException:
                # A set-up cut short (a statement timeout on a locked table, say) would leave an
                # aborted transaction behind: start afresh on the next batch instead.
                conn.close()
                raise
            self._conns[table] = conn
        return conn

    def close(self) -> None:
        """Close the connections, if open."""
        self._ticks_writer.shutdown()
        for conn in self._conns.values():
            conn.close()

    def write(self, batch: Sequence[StoredEvent]) -> WriteResult:
        """Store every message of ``batch`` whose event is not stored yet: its events and
        trading rows in one transaction, its option ticks in another, both at once."""
        live = self._run_id == LIVE_RUN_ID
        tick_rows = [row for stored in batch for row in stored.tick_rows] if live else []
        ticks = self._ticks_writer.submit(self._write_ticks, tick_rows) if tick_rows else None
        try:
            conn = self._connection("events")
            event_rows = [_event_copy_row(stored.event_row, self._run_id) for stored in batch]
            with conn.transaction():
                created = self._ensure_partitions(conn, "events", event_rows)
                events = self._insert_new(conn, "events", EVENT_COLUMNS, EVENT_TYPES, event_rows)
                if live:
                    trading_rows = [stored.trading_row for stored in batch if stored.trading_row]
                    _insert_trading_rows(conn, trading_rows)
            self._partitions |= created
        finally:
            ticks_stored = ticks.result() if ticks else 0
        sent = Counter(stored.message.stream for stored in batch)
        return WriteResult(events.total(), ticks_stored, dict(sent - events))

    def _write_ticks(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Store the option ticks not stored yet in one transaction; how many were new."""
        conn = self._connection("option_ticks")
        with conn.transaction():
            created = self._ensure_partitions(conn, "option_ticks", rows)
            inserted = self._insert_new(
                conn, "option_ticks", OPTION_TICK_COLUMNS, OPTION_TICK_TYPES, rows
            ).total()
        self._partitions |= created
        return inserted

    def _insert_new(
        self,
        conn: psycopg.Connection,
        table: str,
        columns: Sequence[str],
        types: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
    ) -> Counter[str]:
        """Store the ``rows`` whose key is not taken; how many were inserted, by stream for
        events (all under ``""`` for option ticks). Straight in, unless duplicates are expected
        or met (see the module's docstring)."""
        if not rows:
            return Counter()
        if table not in self._duplicates_expected:
            try:
                with conn.transaction():  # a savepoint: a key taken undoes this COPY alone
                    _copy(conn, sql.Identifier(table), columns, types, rows)
                return (
                    Counter(row[1] for row in rows)
                    if table == "events"
                    else Counter({"": len(rows)})
                )
            except psycopg.errors.UniqueViolation:
                pass
        inserted = _insert_staged(conn, table, columns, types, rows)
        if inserted.total() < len(rows):
            self._duplicates_expected.add(table)
        else:
            self._duplicates_expected.discard(table)
        return inserted

    def _ensure_partitions(
        self, conn: psycopg.Connection, table: str, rows: Iterable[tuple[Any, ...]]
    ) -> set[tuple[str, date]]:
        """Create the daily partitions of ``table`` that ``rows`` (time first) fall in; which
        ones were asked for. The caller remembers them only once its transaction commits: a
        partition created in one rolled back (a batch the database refused, a lost connection)
        is gone, and a store that believed it there sent the rest of its day to the default
        partition, where they stopped the day's partition from ever being created."""
        if self._mode is not StorageMode.POSTGRES:
            return set()
        missing = {(table, row[0].date()) for row in rows} - self._partitions
        for _, day in sorted(missing):
            conn.execute("SELECT optbus_ensure_day_partition(%s, %s)", (table, day))
        return missing


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


def _staging(table: str) -> sql.Identifier:
    """The temporary table a batch of ``table`` rows is copied into: one per connection, emptied
    at each commit."""
    return sql.Identifier(f"incoming_{table}")


def _copy(
    conn: psycopg.Connection,
    target: sql.Identifier,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """COPY ``rows`` into ``target`` in binary, with the column types given (no guessing)."""
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    copy = sql.SQL("COPY {target} ({names}) FROM STDIN (FORMAT BINARY)")
    with conn.cursor().copy(copy.format(target=target, names=names)) as copying:
        copying.set_types(list(types))
        for row in rows:
            copying.write_row(row)


def _insert_staged(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> Counter[str]:
    """Copy ``rows`` into the staging table, then insert those whose key is not taken; how
    many were inserted, by stream for events (all under ``""`` for option ticks)."""
    _copy(conn, _staging(table), columns, types, rows)
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    part = sql.Identifier("stream") if table == "events" else sql.Literal("")
    inserted = conn.execute(
        sql.SQL(
            "WITH inserted AS (INSERT INTO {table} ({names}) SELECT {names} FROM {staging} "
            "ON CONFLICT DO NOTHING RETURNING {part} AS part) "
            "SELECT part, count(*) FROM inserted GROUP BY part"
        ).format(table=sql.Identifier(table), names=names, staging=_staging(table), part=part)
    ).fetchall()
    return Counter(dict(inserted))
