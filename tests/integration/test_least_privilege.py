"""Services write through a role that may only insert and select."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from psycopg import sql

from optbus.codec import encode
from optbus.events import OptionChainSnapshot
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import StorageMode, migrate
from optbus_persistence.store import EventStore

from .conftest import login_in_role, simulated_steps

pytestmark = pytest.mark.integration

LOGIN = "optbus_test_writer_login"


@pytest.fixture
def writer_url(database_url: str) -> Iterator[str]:
    with login_in_role(database_url, LOGIN, "optbus_writer") as url:
        yield url


def _batch(day: date) -> list:  # type: ignore[type-arg]
    step = simulated_steps(day, 1, "it-least-privilege")[0]
    return [
        decode_stored(BusMessage("MD", 1_000_000 + i, "md.chain.X", encode(e), e.ts_event, None))
        for i, e in enumerate(step)
        if isinstance(e, OptionChainSnapshot)
    ]


def test_the_writer_role_stores_events_on_a_day_never_seen_before(
    writer_url: str, storage: tuple[str, StorageMode]
) -> None:
    store = EventStore(writer_url)

    result = store.write(_batch(date(2026, 12, 14)))

    store.close()
    assert result.events > 0


def test_the_writer_role_stores_events_where_the_public_may_make_no_temporary_table(
    writer_url: str, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(
                sql.Identifier(conn.info.dbname)
            )
        )
    migrate(database_url)
    store = EventStore(writer_url)

    result = store.write(_batch(date(2026, 12, 16)))

    store.close()
    assert result.events > 0


def test_the_writer_role_cannot_change_the_schema(writer_url: str) -> None:
    with psycopg.connect(writer_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DROP TABLE option_ticks")


def test_the_writer_role_cannot_delete_events(writer_url: str) -> None:
    with psycopg.connect(writer_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM events")
