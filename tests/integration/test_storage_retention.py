"""Retention and minute bars on plain PostgreSQL (TimescaleDB's policies: docs/operations.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from typer.testing import CliRunner

from optbus_cli.main import app
from optbus_persistence.schema import Retention, StorageMode, migrate

from ..conftest import fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url, f"optbus_retention_{os.getpid()}") as url:
        if migrate(url) is not StorageMode.POSTGRES:
            pytest.skip("TimescaleDB drops chunks by its own policy, not by migrate")
        yield url


def _days_ago(days: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=days)


def _store_tick(conn: psycopg.Connection, day: date, mid: float, second: int = 0) -> None:
    conn.execute("SELECT optbus_ensure_day_partition('option_ticks', %s)", (day,))
    _insert_tick(conn, day, mid, second)


def _insert_tick(conn: psycopg.Connection, day: date, mid: float, second: int = 0) -> None:
    conn.execute(
        "INSERT INTO option_ticks (time, underlying, expiry, strike, option_type, bid, ask, "
        "spot, iv, open_interest, iv_status) VALUES (%s, 'NIFTY', %s, 24000, 'CE', %s, %s, "
        "24000, 0.15, 100, 'ok')",
        (datetime(day.year, day.month, day.day, 4, 0, second, tzinfo=UTC), day, mid - 1, mid + 1),
    )


def _tick_partitions(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'option_ticks'::regclass"
    ).fetchall()
    return {name for (name,) in rows}


def _partition(day: date) -> str:
    return f"option_ticks_{day:%Y%m%d}"


def test_migrate_drops_the_tick_partitions_older_than_the_retention(database: str) -> None:
    old, recent = _days_ago(40), _days_ago(2)
    with psycopg.connect(database, autocommit=True) as conn:
        _store_tick(conn, old, 100.0)
        _store_tick(conn, recent, 100.0)

        migrate(database, Retention(option_ticks_days=30))

        partitions = _tick_partitions(conn)
    assert _partition(old) not in partitions
    assert {_partition(recent), "option_ticks_default"} <= partitions


def test_migrate_without_a_retention_keeps_every_partition(database: str) -> None:
    old = _days_ago(400)
    with psycopg.connect(database, autocommit=True) as conn:
        _store_tick(conn, old, 100.0)

        migrate(database)
        migrate(database, Retention())

        assert _partition(old) in _tick_partitions(conn)


def test_a_retention_of_less_than_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        Retention(events_days=0)


def test_minute_bars_open_at_the_first_mid_and_close_at_the_last(database: str) -> None:
    day = _days_ago(1)
    with psycopg.connect(database, autocommit=True) as conn:
        for second, mid in ((1, 100.0), (20, 110.0), (40, 90.0), (59, 105.0)):
            _store_tick(conn, day, mid, second)

        bar = conn.execute("SELECT open, high, low, close FROM option_minute_bars").fetchall()

    assert bar == [(100.0, 110.0, 90.0, 105.0)]


def test_optbus_db_migrate_applies_the_tick_retention_it_is_given(database: str) -> None:
    old = _days_ago(40)
    with psycopg.connect(database, autocommit=True) as conn:
        _store_tick(conn, old, 100.0)

        result = CliRunner().invoke(
            app, ["db", "migrate", "--database-url", database, "--tick-retention-days", "30"]
        )

        assert result.exit_code == 0, result.output
        assert _partition(old) not in _tick_partitions(conn)


def test_a_day_already_in_the_default_partition_still_takes_rows(database: str) -> None:
    """Rows of a day in the default partition (written by a store that believed the day's
    partition there) forbid creating that partition; the day then stays in the default one
    instead of every later row of it being refused (SQLSTATE 23514)."""
    day = _days_ago(3)
    with psycopg.connect(database, autocommit=True) as conn:
        _insert_tick(conn, day, 100.0, second=0)  # no partition of its day: the default takes it

        _store_tick(conn, day, 101.0, second=1)

        (count,) = conn.execute("SELECT count(*) FROM option_ticks_default").fetchone() or (0,)
        assert count == 2
        assert _partition(day) not in _tick_partitions(conn)
