"""persist_batch with a store that refuses chosen messages, the way PostgreSQL does."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

import psycopg
import pytest
from prometheus_client import REGISTRY

from optbus.codec import encode
from optbus.events import VolatilityIndexTick
from optbus.subjects import STREAM_NAMES
from optbus_persistence.rows import StoredEvent
from optbus_persistence.schema import SchemaMissing
from optbus_persistence.store import WriteResult
from optbus_persistence.writer import (
    PersistenceDeps,
    database_unavailable,
    persist_batch,
    refuses_the_data,
)

TS = 1_764_564_300_123_456_789


@dataclass
class FakeMsg:
    data: bytes
    seq: int
    subject: str = "md.vix.INDIAVIX"
    headers: None = None
    outcome: str = "pending"

    @property
    def metadata(self) -> SimpleNamespace:
        return SimpleNamespace(
            stream="MD", sequence=SimpleNamespace(stream=self.seq),
            timestamp=datetime(2026, 12, 1, tzinfo=UTC),
        )  # fmt: skip

    async def ack(self) -> None:
        self.outcome = "acked"

    async def nak(self, delay: float) -> None:
        self.outcome = "nakd"


@dataclass
class FakeDeadLetters:
    parked: list[tuple[FakeMsg, str]] = field(default_factory=list)

    async def park(self, msg: FakeMsg, reason: str) -> None:
        msg.outcome = "parked"
        self.parked.append((msg, reason))


@dataclass
class RefusingStore:
    """Commits a batch unless it holds a message whose index is "BAD" (refused as PostgreSQL
    refuses data) or "BUG" (whose write raises what a bug mapping it to rows would), or the
    database is ``down``; the sequences ``stored_already`` are reported as duplicates."""

    down: bool = False
    stored_already: frozenset[int] = frozenset()
    committed: list[int] = field(default_factory=list)

    def write(self, batch: Sequence[StoredEvent]) -> WriteResult:
        if self.down:
            raise psycopg.OperationalError("connection to server lost")
        if any(b'"index":"BAD"' in stored.message.data for stored in batch):
            raise psycopg.errors.NumericValueOutOfRange("integer out of range")
        if any(b'"index":"BUG"' in stored.message.data for stored in batch):
            raise KeyError("strike")
        fresh = [
            stored.message.seq for stored in batch if stored.message.seq not in self.stored_already
        ]
        self.committed.extend(fresh)
        duplicates = len(batch) - len(fresh)
        return WriteResult(len(fresh), 0, {"MD": duplicates} if duplicates else {})


def _tick(seq: int, index: str = "INDIAVIX") -> FakeMsg:
    event = VolatilityIndexTick(
        event_id=f"v{seq}", ts_event=TS, ts_init=TS, index=index, value=13.0
    )
    return FakeMsg(encode(event), seq)


def _deps(store: RefusingStore, dead_letters: FakeDeadLetters) -> PersistenceDeps:
    return PersistenceDeps(
        service="persistence", consumer="persistence-md-md", store=store,  # type: ignore[arg-type]
        dead_letters=dead_letters, retry_delay_seconds=0.0,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_the_good_messages_of_a_batch_with_refused_data_are_stored_and_acked() -> None:
    store, dead_letters = RefusingStore(), FakeDeadLetters()
    batch = [_tick(1), _tick(2), _tick(3, index="BAD"), _tick(4), _tick(5)]

    await persist_batch(batch, _deps(store, dead_letters))  # type: ignore[arg-type]

    assert sorted(store.committed) == [1, 2, 4, 5]
    assert [msg.outcome for msg in batch] == ["acked", "acked", "parked", "acked", "acked"]


async def test_the_message_whose_data_is_refused_is_parked_with_the_sqlstate() -> None:
    store, dead_letters = RefusingStore(), FakeDeadLetters()
    bad = _tick(3, index="BAD")

    await persist_batch([_tick(1), bad, _tick(2)], _deps(store, dead_letters))  # type: ignore[list-item]

    assert dead_letters.parked == [
        (bad, "database refused it: SQLSTATE 22003 integer out of range")
    ]


async def test_a_temporary_database_failure_naks_the_whole_batch_and_parks_nothing() -> None:
    store, dead_letters = RefusingStore(down=True), FakeDeadLetters()
    batch = [_tick(1), _tick(2, index="BAD")]

    result = await persist_batch(batch, _deps(store, dead_letters))  # type: ignore[arg-type]

    assert (result, [msg.outcome for msg in batch], dead_letters.parked) == (
        None, ["nakd", "nakd"], [],
    )  # fmt: skip


async def test_a_message_whose_write_raises_an_unexpected_error_is_parked_alone_with_it() -> None:
    store, dead_letters = RefusingStore(), FakeDeadLetters()
    bad = _tick(3, index="BUG")
    batch = [_tick(1), _tick(2), bad, _tick(4), _tick(5)]

    await persist_batch(batch, _deps(store, dead_letters))  # type: ignore[arg-type]

    assert (sorted(store.committed), dead_letters.parked) == (
        [1, 2, 4, 5], [(bad, "storing it failed: KeyError('strike')")],
    )  # fmt: skip
    assert [msg.outcome for msg in batch] == ["acked", "acked", "parked", "acked", "acked"]


async def test_a_message_with_a_time_out_of_range_is_parked_and_the_others_stored() -> None:
    store, dead_letters = RefusingStore(), FakeDeadLetters()
    bad = FakeMsg(_tick(1).data.replace(str(TS).encode(), b"1" + b"0" * 30, 1), 1)

    await persist_batch([bad, _tick(2)], _deps(store, dead_letters))  # type: ignore[list-item]

    assert (store.committed, [r.split(":")[0] for _, r in dead_letters.parked]) == (
        [2], ["invalid event"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (psycopg.errors.NumericValueOutOfRange(), True),
        (psycopg.errors.UntranslatableCharacter(), True),
        (psycopg.errors.NotNullViolation(), True),
        (psycopg.errors.ProgramLimitExceeded(), True),
        (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), True),
        (OverflowError("int too big to convert"), True),
        (psycopg.OperationalError("connection to server lost"), False),
        (psycopg.errors.AdminShutdown(), False),
        (psycopg.errors.SerializationFailure(), False),
        (psycopg.errors.TooManyConnections(), False),
        (psycopg.errors.QueryCanceled(), False),
        (psycopg.errors.UndefinedTable(), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_only_a_refusal_of_the_data_itself_is_permanent(error: Exception, permanent: bool) -> None:
    assert refuses_the_data(error) is permanent


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (psycopg.OperationalError("connection to server lost"), True),
        (psycopg.InterfaceError("the connection is closed"), True),
        (ConnectionRefusedError(), True),
        (SchemaMissing("no optbus_schema table"), True),
        (psycopg.errors.AdminShutdown(), True),
        (psycopg.errors.SerializationFailure(), True),
        (psycopg.errors.DeadlockDetected(), True),
        (psycopg.errors.TooManyConnections(), True),
        (psycopg.errors.QueryCanceled(), True),
        (psycopg.errors.UndefinedTable(), True),
        (psycopg.errors.NumericValueOutOfRange(), False),
        (psycopg.errors.NotNullViolation(), False),
        (psycopg.errors.ProgramLimitExceeded(), False),
        (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), False),
        (psycopg.ProgrammingError("cannot adapt type 'object'"), False),
        (KeyError("strike"), False),
        (TypeError("unsupported operand"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_only_the_database_being_away_or_not_ready_is_retried(
    error: Exception, unavailable: bool
) -> None:
    assert database_unavailable(error) is unavailable


def _duplicates_counted(stream: str) -> float | None:
    return REGISTRY.get_sample_value("optbus_persistence_duplicates_total", {"stream": stream})


def test_every_stream_has_a_duplicates_series_from_the_start() -> None:
    assert None not in [_duplicates_counted(stream) for stream in STREAM_NAMES]


async def test_messages_whose_event_was_stored_already_are_counted_on_their_stream() -> None:
    store, dead_letters = RefusingStore(stored_already=frozenset({1, 3})), FakeDeadLetters()
    before = _duplicates_counted("MD") or 0.0

    await persist_batch([_tick(1), _tick(2), _tick(3)], _deps(store, dead_letters))  # type: ignore[list-item]

    assert _duplicates_counted("MD") == before + 2
