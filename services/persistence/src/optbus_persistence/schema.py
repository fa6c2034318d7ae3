"""The storage schema: created idempotently on TimescaleDB when present, else plain PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

import psycopg

from optbus import database


class StorageMode(StrEnum):
    """Which engine holds the time series."""

    TIMESCALEDB = "timescaledb"
    POSTGRES = "postgres"

    @property
    def description(self) -> str:
        """What the schema is built of, in words for people."""
        if self is StorageMode.TIMESCALEDB:
            return "TimescaleDB hypertables with compression"
        return "plain PostgreSQL with daily range partitions (TimescaleDB not available)"


@dataclass(frozen=True, slots=True)
class Retention:
    """How many days of each time-partitioned table to keep; None keeps everything.

    On TimescaleDB a retention policy drops whole chunks on its own schedule; on plain
    PostgreSQL each ``migrate`` drops the daily partitions that ended before the horizon, so
    there the migration is run daily (docs/operations.md, 'Storage and retention').
    """

    option_ticks_days: int | None = None
    events_days: int | None = None

    def __post_init__(self) -> None:
        for days in (self.option_ticks_days, self.events_days):
            if days is not None and days < 1:
                raise ValueError(f"a retention is at least one day, got {days}")

    def by_table(self) -> dict[str, int | None]:
        """The days to keep of each table that has a retention."""
        return {"option_ticks": self.option_ticks_days, "events": self.events_days}


def _script(name: str) -> str:
    return resources.files("optbus_persistence").joinpath("sql", name).read_text("utf-8")


def _timescaledb_available(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    return bool(row and row[0])


def _recorded_mode(conn: psycopg.Connection) -> StorageMode | None:
    exists = conn.execute("SELECT to_regclass('schema_info') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute("SELECT value FROM schema_info WHERE key = 'storage_mode'").fetchone()
    return StorageMode(row[0]) if row else None


def _apply_retention(conn: psycopg.Connection, mode: StorageMode, retention: Retention) -> None:
    """Make each table's retention what ``retention`` says (a changed setting replaces the
    policy before; None removes it on TimescaleDB)."""
    for table, days in retention.by_table().items():
        if mode is StorageMode.TIMESCALEDB:
            conn.execute(
                "SELECT remove_retention_policy(%s::regclass, if_exists => TRUE)", (table,)
            )
            if days is not None:
                conn.execute(
                    "SELECT add_retention_policy(%s::regclass, make_interval(days => %s))",
                    (table, days),
                )
        elif days is not None:
            conn.execute(
                "SELECT optbus_drop_day_partitions_before(%s, "
                "(now() AT TIME ZONE 'UTC')::date - %s)",
                (table, days),
            )


def migrate(database_url: str, retention: Retention | None = None) -> StorageMode:
    """Create or complete the schema, apply ``retention`` and return the storage mode it uses.

    A database keeps the mode it was first created with, so re-running is always safe.
    Without ``retention`` the retention is left as it is (the demo and replay migrate too, and
    must not undo what ``optbus db migrate`` set).
    """
    with database.connect(database_url, autocommit=True) as conn:
        mode = _recorded_mode(conn)
        if mode is None:
            mode = StorageMode.TIMESCALEDB if _timescaledb_available(conn) else StorageMode.POSTGRES
        if mode is StorageMode.TIMESCALEDB:
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        partition_clause = "" if mode is StorageMode.TIMESCALEDB else "PARTITION BY RANGE (time)"
        with conn.transaction():
            conn.execute(_script("tables.sql").replace("{partition_clause}", partition_clause))
            conn.execute(_script(f"{mode.value}.sql"))
            conn.execute(_script("trading.sql"))
            conn.execute(_script("models.sql"))
            conn.execute(_script("quality.sql"))
            conn.execute(_script("history.sql"))
            conn.execute(
                "INSERT INTO schema_info (key, value) VALUES ('storage_mode', %s) "
                "ON CONFLICT (key) DO NOTHING",
                (mode.value,),
            )
        if retention is not None:
            _apply_retention(conn, mode, retention)
        conn.execute(_script("roles.sql"))
        conn.execute(_script("backtest.sql"))
    return mode


class SchemaMissing(RuntimeError):
    """The database was never migrated."""


def read_mode(conn: psycopg.Connection) -> StorageMode:
    """The storage mode of a migrated database; ``SchemaMissing`` if it was never migrated."""
    mode = _recorded_mode(conn)
    if mode is None:
        raise SchemaMissing("the database has no optbus schema: run `optbus db migrate` first")
    return mode
