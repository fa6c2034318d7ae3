"""Messages that used to stall persistence or greeks forever, each followed by good ones: the bad
one is parked once, everything behind it is stored (or priced)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import msgspec
import psycopg
import pytest

from optbus.codec import encode
from optbus.events import (
    Charges,
    Contract,
    DeadLetter,
    Fill,
    KillSwitchEngaged,
    KillSwitchReleased,
    OptionChainSnapshot,
    VolatilityIndexTick,
)
from optbus.routing import subject_of
from optbus.subjects import KILLSWITCH, md_chain
from optbus.timestamps import datetime_from_ns, epoch_ns

from .conftest import (
    PERSISTENCE_DURABLES,
    PIPELINE_DURABLES,
    Backlog,
    durable_backlog,
    eventually,
    expected_rows,
    publish_events,
    publish_raw,
    query_one,
    simulated_steps,
    start_persistence,
    stuck,
    ticks_on,
    wait_for_rows,
)

pytestmark = pytest.mark.integration


def _count(database_url: str, sql: str, params: tuple[object, ...] = ()) -> int:
    (count,) = query_one(database_url, sql, params)
    return int(count)  # type: ignore[call-overload]


def _letters(database_url: str, original_subject: str, consumer: str) -> int:
    """Dead letters of ``original_subject`` parked by ``consumer`` and stored from the DLQ."""
    return _count(
        database_url,
        "SELECT count(*) FROM events WHERE stream = 'DLQ' AND type = 'dlq.message' "
        "AND payload->>'original_subject' = %s AND payload->>'consumer' = %s",
        (original_subject, consumer),
    )


def _stored(database_url: str, event_ids: list[str]) -> int:
    return _count(
        database_url, "SELECT count(*) FROM events WHERE event_id = ANY(%s)", (event_ids,)
    )


async def _parked_once(database_url: str, original_subject: str, consumer: str) -> None:
    """Wait for the letter; then, after the redelivery it would take to park it again, still
    exactly one."""

    async def parked() -> bool:
        return _letters(database_url, original_subject, consumer) > 0

    await eventually(parked)
    await asyncio.sleep(1.5)
    assert _letters(database_url, original_subject, consumer) == 1


async def _stuck(nats_url: str, durables: frozenset[str] = PIPELINE_DURABLES) -> Backlog:
    """The running services' durables still holding a message once they drained (or a minute
    passed): none, when nothing is stuck behind or on the bad message."""
    return stuck(await durable_backlog(nats_url, durables=durables))


def _vix(event_id: str, moment: datetime, index: str = "ITTSRANGE") -> VolatilityIndexTick:
    ns = epoch_ns(moment)
    return VolatilityIndexTick(event_id=event_id, ts_event=ns, ts_init=ns, index=index, value=14.0)


async def test_a_vix_tick_at_a_time_no_date_holds_is_parked_and_the_ticks_behind_it_stored(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    moment = datetime(2026, 12, 21, 4, 0, tzinfo=UTC)
    wire = msgspec.json.decode(encode(_vix("it-ts-range-bad", moment)))
    wire["ts_event"] = 10**30
    good = [_vix(f"it-ts-range-{i}", moment) for i in range(3)]
    subject = "md.vix.ITTSRANGE"

    await publish_raw(nats_url, [(subject, msgspec.json.encode(wire))])
    await publish_events(nats_url, good)

    async def stored() -> bool:
        return _stored(database_url, [event.event_id for event in good]) == len(good)

    await eventually(stored)
    await _parked_once(database_url, subject, "persistence-md-md")
    assert _stored(database_url, ["it-ts-range-bad"]) == 0
    assert await _stuck(nats_url) == {}


async def test_a_vix_tick_whose_event_id_no_index_can_hold_is_parked_and_the_ticks_behind_it_stored(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    """A schema-valid event with an 8,000-character id (random, so it does not compress): the
    events' unique index cannot hold it (SQLSTATE 54000, a program limit, not the database
    being away)."""
    moment = datetime(2026, 12, 21, 5, 0, tzinfo=UTC)
    bad = _vix(secrets.token_hex(4_000), moment, "ITLONGID")
    good = [_vix(f"it-long-id-{i}", moment, "ITLONGID") for i in range(3)]
    subject = "md.vix.ITLONGID"

    await publish_events(nats_url, [good[0], bad, *good[1:]])

    async def stored() -> bool:
        return _stored(database_url, [event.event_id for event in good]) == len(good)

    await eventually(stored, within=30)
    await _parked_once(database_url, subject, "persistence-md-md")
    assert _stored(database_url, [bad.event_id]) == 0


async def test_a_huge_binary_snapshot_is_parked_by_greeks_and_the_chains_behind_it_priced(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    day = date(2026, 12, 22)
    steps = simulated_steps(day, 1, "it-huge-binary")
    chain = next(e for e in steps[0] if isinstance(e, OptionChainSnapshot))
    subject = md_chain(chain.underlying, chain.expiry)
    body = bytes(range(1, 32)) * 6_452  # 200 kB, valid UTF-8, six bytes a byte as JSON text

    await publish_raw(nats_url, [(subject, body)])
    await publish_events(nats_url, steps[0])

    await wait_for_rows(database_url, day, expected_rows(steps))
    await _parked_once(database_url, subject, "greeks")
    size, digest, truncated = query_one(
        database_url,
        "SELECT payload->>'original_size', payload->>'original_sha256', "
        "payload->>'payload_truncated' FROM events WHERE stream = 'DLQ' "
        "AND payload->>'original_subject' = %s AND payload->>'consumer' = 'greeks'",
        (subject,),
    )
    assert (size, digest, truncated) == (str(len(body)), hashlib.sha256(body).hexdigest(), "true")
    assert ticks_on(database_url, day) == expected_rows(steps)
    assert await _stuck(nats_url) == {}


def _fill(event_id: str, quantity: int, day: date = date(2026, 12, 23)) -> Fill:
    ns = epoch_ns(datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC))
    return Fill(
        event_id=event_id, ts_event=ns, ts_init=ns, fill_id=event_id, client_order_id="it-o",
        contract=Contract(underlying="NIFTY", expiry=date(2026, 12, 29), strike=26_000.0,
                          option_type="CE"),
        side="BUY", quantity=quantity, price=100.0, bid=99.5, ask=100.5,
        charges=Charges(brokerage=20.0, stt=0.0, exchange_transaction=1.0, sebi=0.0,
                        stamp_duty=0.0, gst=3.8),
    )  # fmt: skip


async def test_a_fill_its_table_cannot_hold_is_parked_and_the_good_fills_of_its_batch_stored(
    nats_url: str, database_url: str
) -> None:
    good = [_fill(f"it-refused-{i}", 65) for i in range(4)]
    bad = _fill("it-refused-bad", 65)
    bad_data = _unstorable(bad)
    await publish_events(nats_url, good[:2])
    await publish_raw(nats_url, [(subject_of(bad), bad_data)])
    await publish_events(nats_url, good[2:])

    persistence = await start_persistence(nats_url, database_url).ready()
    try:
        await _parked_once(database_url, "exec.fill", "persistence-trading-exec")
        good_ids = [fill.event_id for fill in good]
        assert _count(
            database_url, "SELECT count(*) FROM fills WHERE event_id = ANY(%s)", (good_ids,)
        ) == len(good)
        assert _stored(database_url, good_ids) == len(good)
        assert _stored(database_url, [bad.event_id]) == 0
        reason = query_one(
            database_url,
            "SELECT payload->>'reason' FROM events WHERE stream = 'DLQ' "
            "AND payload->>'consumer' = 'persistence-trading-exec' "
            "AND payload->>'payload' LIKE '%%it-refused-bad%%'",
        )[0]
        assert str(reason).startswith("database refused it: SQLSTATE 22003")
        assert await _stuck(nats_url, PERSISTENCE_DURABLES) == {}
    finally:
        await persistence.stop()


def _unstorable(fill: Fill) -> bytes:
    """``fill`` with a price written with 20,000 decimals: a float to the decoder (0.0), a
    number jsonb cannot hold (SQLSTATE 22003)."""
    return encode(fill).replace(b'"price":100.0', b'"price":0.' + b"0" * 20_000 + b"1")


async def test_a_day_whose_first_batch_was_refused_stores_its_later_events_after_a_restart(
    nats_url: str, database_url: str
) -> None:
    """The first batch of a day creates its partition, in the batch's transaction: refused and
    rolled back, the partition went with it, and a store that still believed it there sent the
    day's good rows to the default partition; the next process could then never create the
    day's partition (SQLSTATE 23514) and parked every later event of the day."""
    day = date(2027, 1, 6)
    first = [_fill(f"it-first-batch-{i}", 65, day) for i in range(2)]
    bad = _fill("it-first-batch-bad", 65, day)
    later = [_fill(f"it-first-batch-later-{i}", 65, day) for i in range(3)]
    await publish_events(nats_url, first[:1])
    await publish_raw(nats_url, [(subject_of(bad), _unstorable(bad))])
    await publish_events(nats_url, first[1:])
    persistence = await start_persistence(nats_url, database_url).ready()
    try:

        async def first_stored() -> bool:
            return _stored(database_url, [fill.event_id for fill in first]) == len(first)

        await eventually(first_stored)
    finally:
        await persistence.stop()

    await publish_events(nats_url, later)
    persistence = await start_persistence(nats_url, database_url).ready()
    try:

        async def later_stored() -> bool:
            return _stored(database_url, [fill.event_id for fill in later]) == len(later)

        await eventually(later_stored, within=20)
        assert _letters_holding(database_url, "persistence-trading-exec", "it-first-batch") == 1
    finally:
        await persistence.stop()


def _ticks_at(database_url: str, moment_ns: int) -> int:
    return _count(
        database_url, "SELECT count(*) FROM option_ticks WHERE time = %s",
        (datetime_from_ns(moment_ns),),
    )  # fmt: skip


async def test_a_chain_with_a_bid_size_no_integer_column_holds_is_parked_and_its_neighbours_stored(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    day = date(2026, 12, 30)
    steps = simulated_steps(day, 3, "it-wide-size")
    await publish_events(nats_url, steps[0])
    await wait_for_rows(database_url, day, expected_rows(steps[:1]))
    # What greeks made of the first chain, with a bid size binary COPY would wrap into int4's
    # low 32 bits (2**40 + 7 stored as 7), at an instant of its own.
    subject, wire = query_one(
        database_url,
        "SELECT subject, payload FROM events WHERE type = 'greeks.chain' ORDER BY seq LIMIT 1",
    )
    assert isinstance(wire, dict)
    bad_ns = wire["snapshot"]["ts_event"] + 1_000
    wire["event_id"] = wire["snapshot"]["event_id"] = "it-wide-size-bad"
    wire["ts_event"] = wire["snapshot"]["ts_event"] = bad_ns
    wire["snapshot"]["calls"]["bid_size"][0] = 2**40 + 7

    await publish_raw(nats_url, [(str(subject), msgspec.json.encode(wire))])
    await publish_events(nats_url, steps[1] + steps[2])

    await wait_for_rows(database_url, day, expected_rows(steps))
    await _parked_once(database_url, str(subject), "persistence-analytics-greeks")
    assert ticks_on(database_url, day) == expected_rows(steps)
    assert _ticks_at(database_url, bad_ns) == 0
    assert _stored(database_url, ["it-wide-size-bad"]) == 0
    assert await _stuck(nats_url) == {}


def _letter(event_id: str, payload: str) -> DeadLetter:
    ns = epoch_ns(datetime(2026, 12, 24, 4, 0, tzinfo=UTC))
    return DeadLetter(
        event_id=event_id, ts_event=ns, ts_init=ns, original_subject="md.chain.ITNUL.20261229",
        stream="MD", stream_seq=1, consumer="greeks", reason="malformed JSON",
        payload=payload, payload_encoding="utf-8",
    )  # fmt: skip


async def test_a_dead_letter_holding_nul_is_stored_and_the_letters_behind_it_too(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    letters = [_letter("it-nul-letter", '{"a":"\x00"}')]
    letters += [_letter(f"it-nul-letter-{i}", "{") for i in range(3)]

    await publish_events(nats_url, letters)

    async def stored() -> bool:
        return _stored(database_url, [letter.event_id for letter in letters]) == len(letters)

    await eventually(stored)
    payload, raw = query_one(
        database_url,
        "SELECT payload->>'payload', raw_payload FROM events WHERE event_id = 'it-nul-letter'",
    )
    assert (payload, raw) == ('{"a":"\ufffd"}', encode(letters[0]))
    assert _letters(database_url, "dlq.md.chain.ITNUL.20261229", "persistence-dlq-dlq") == 0
    assert await _stuck(nats_url) == {}


async def test_a_kill_switch_engaged_and_released_with_nul_in_its_reasons_leaves_its_audit_rows(
    nats_url: str, database_url: str, pipeline: None
) -> None:
    engage = b'{"action":"engage","reason":"fat \\u0000 finger","operator":"it-nul-ops"}'
    release = b'{"action":"release","reason":"all \\u0000 clear","operator":"it-nul-ops"}'
    ns = epoch_ns(datetime(2026, 12, 24, 5, 0, tzinfo=UTC))
    engaged = KillSwitchEngaged(
        event_id="it-nul-engaged", ts_event=ns, ts_init=ns, operator="it-nul-ops",
        reason="fat \x00 finger", flatten=False,
    )  # fmt: skip
    released = KillSwitchReleased(
        event_id="it-nul-released", ts_event=ns + 1, ts_init=ns + 1, operator="it-nul-ops",
        reason="all \x00 clear",
    )  # fmt: skip

    # each command, and what risk publishes when it acts on it
    await publish_raw(nats_url, [(KILLSWITCH, engage)])
    await publish_events(nats_url, [engaged])
    await publish_raw(nats_url, [(KILLSWITCH, release)])
    await publish_events(nats_url, [released])

    async def audited() -> bool:
        return _count(
            database_url, "SELECT count(*) FROM kill_switch_events WHERE event_id = ANY(%s)",
            ([engaged.event_id, released.event_id],),
        ) == 2  # fmt: skip

    await eventually(audited)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT action, reason FROM kill_switch_events WHERE event_id = ANY(%s) ORDER BY time",
            ([engaged.event_id, released.event_id],),
        ).fetchall()
    assert rows == [("engage", "fat \ufffd finger"), ("release", "all \ufffd clear")]
    for command in (engage, release):
        assert _count(
            database_url,
            "SELECT count(*) FROM events WHERE type = %s AND payload->>'operator' = 'it-nul-ops' "
            "AND raw_payload = %s",
            (KILLSWITCH, command),
        ) == 1  # fmt: skip
    assert await _stuck(nats_url) == {}


@contextmanager
def _fills_must_be_priced(database_url: str) -> Iterator[None]:
    """A CHECK on ``fills`` that a positive price passes, while in the block: a database
    stricter than the events' schema, which lets a fill's price be 0."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE fills ADD CONSTRAINT it_fills_priced CHECK (price > 0) NOT VALID")
    try:
        yield
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE fills DROP CONSTRAINT it_fills_priced")


def _letters_holding(database_url: str, consumer: str, text: str) -> int:
    return _count(
        database_url,
        "SELECT count(*) FROM events WHERE stream = 'DLQ' AND payload->>'consumer' = %s "
        "AND payload->>'payload' LIKE %s",
        (consumer, f"%{text}%"),
    )


async def test_a_fill_its_table_refuses_for_integrity_is_parked_and_the_good_fills_stored(
    nats_url: str, database_url: str
) -> None:
    good = [_fill(f"it-integrity-{i}", 65) for i in range(4)]
    bad = msgspec.structs.replace(_fill("it-integrity-bad", 65), price=0.0)
    consumer = "persistence-trading-exec"
    with _fills_must_be_priced(database_url):
        await publish_events(nats_url, [*good[:2], bad, *good[2:]])
        persistence = await start_persistence(nats_url, database_url).ready()
        try:

            async def parked() -> bool:
                return _letters_holding(database_url, consumer, bad.event_id) > 0

            await eventually(parked)
            await asyncio.sleep(1.5)  # the redelivery it would take to park it again
            assert _letters_holding(database_url, consumer, bad.event_id) == 1
            good_ids = [fill.event_id for fill in good]
            assert _count(
                database_url, "SELECT count(*) FROM fills WHERE event_id = ANY(%s)", (good_ids,)
            ) == len(good)  # fmt: skip
            assert _stored(database_url, good_ids) == len(good)
            assert _stored(database_url, [bad.event_id]) == 0
            reason = query_one(
                database_url,
                "SELECT payload->>'reason' FROM events WHERE stream = 'DLQ' "
                "AND payload->>'consumer' = %s AND payload->>'payload' LIKE %s",
                (consumer, f"%{bad.event_id}%"),
            )[0]
            assert str(reason).startswith("database refused it: SQLSTATE 23514")
        finally:
            await persistence.stop()
