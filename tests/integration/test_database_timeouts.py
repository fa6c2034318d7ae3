"""A statement that outlasts the statement timeout fails, so a stuck write is retried, not waited
on forever."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from optbus.codec import encode
from optbus.routing import subject_of
from optbus_persistence.rows import BusMessage, StoredEvent, decode_stored
from optbus_persistence.store import EventStore

from .conftest import simulated_steps

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def batch() -> list[StoredEvent]:
    events = simulated_steps(date(2026, 12, 8), 1, "it-statement-timeout")[0]
    return [decode_stored(BusMessage("MD", seq, subject_of(e), encode(e), e.ts_event, None))
            for seq, e in enumerate(events, start=1)]  # fmt: skip


@pytest.fixture
def store(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[EventStore]:
    monkeypatch.setenv("OPTBUS_DB_STATEMENT_TIMEOUT_MS", "300")
    store = EventStore(database_url, "it-statement-timeout")
    yield store
    store.close()


def _lock_events(database_url: str) -> psycopg.Connection:
    """Another session holding the events table, as a long migration or a stuck query would."""
    blocker = psycopg.connect(database_url)
    blocker.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
    return blocker


def test_a_write_blocked_beyond_the_statement_timeout_fails_instead_of_hanging(
    database_url: str, store: EventStore, batch: list[StoredEvent]
) -> None:
    with _lock_events(database_url), pytest.raises(psycopg.errors.QueryCanceled):
        store.write(batch)


def test_the_store_writes_the_batch_once_the_database_is_free_again(
    database_url: str, store: EventStore, batch: list[StoredEvent]
) -> None:
    with _lock_events(database_url), pytest.raises(psycopg.errors.QueryCanceled):
        store.write(batch)

    assert store.write(batch).events == len(batch)
