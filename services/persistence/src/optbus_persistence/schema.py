"""The storage schema: created idempotently on TimescaleDB when present, else plain PostgreSQL."""

from __future__ import annotations

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


def migrate(database_url: str) -> StorageMode:
    """Create or complete the schema and return the storage mode it uses.

    A database keeps the mode it was first created with, so re-running is always safe.
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
