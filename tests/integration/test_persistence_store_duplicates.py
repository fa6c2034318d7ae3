"""The store copies a batch straight into its tables and, when a key is taken, stores it the
careful way instead: what was stored already is skipped, the rest lands, and so does every
batch after."""

from __future__ import annotations

from datetime import date

import pytest

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import ChainGreeks, OptionChainSnapshot
from optbus.market import load_market_facts
from optbus.routing import subject_of
from optbus_greeks.domain import GreeksConfig, enrich_chain
from optbus_persistence.rows import BusMessage, StoredEvent, decode_stored
from optbus_persistence.store import EventStore

from .conftest import query_one, simulated_steps

pytestmark = pytest.mark.integration


def _chains(day: date) -> list[ChainGreeks]:
    facts = load_market_facts()
    config = GreeksConfig(rate_at=lambda _ts: 0.065, expiry_close_ns=facts.expiry_close_ns)
    return [
        enrich_chain(event, config, ReplayClock())
        for step in simulated_steps(day, 3, "it-store-duplicates")
        for event in step
        if isinstance(event, OptionChainSnapshot)
    ]


def _stored(chains: list[ChainGreeks], first_seq: int) -> list[StoredEvent]:
    return [
        decode_stored(BusMessage("ANALYTICS", seq, subject_of(c), encode(c), c.ts_event, None))
        for seq, c in enumerate(chains, start=first_seq)
    ]


def _rows(chains: list[ChainGreeks]) -> int:
    return sum(2 * len(chain.snapshot.strikes) for chain in chains)


def _ticks_on(database_url: str, day: date) -> tuple[object, ...]:
    return query_one(
        database_url,
        "SELECT count(*), count(DISTINCT (underlying, expiry, strike, option_type, time)) "
        "FROM option_ticks WHERE time >= %s::date AND time < %s::date + 1",
        (day, day),
    )


def test_a_batch_repeating_part_of_a_stored_one_stores_only_what_is_new(
    database_url: str,
) -> None:
    chains = _chains(date(2027, 3, 1))
    store = EventStore(database_url)
    store.write(_stored(chains[:4], first_seq=1))

    written = store.write(_stored(chains[2:8], first_seq=3))
    store.close()

    assert (written.events, written.option_ticks, dict(written.duplicates)) == (
        4, _rows(chains[4:8]), {"ANALYTICS": 2},
    )  # fmt: skip


def test_the_batches_after_one_with_duplicates_are_stored_whole(database_url: str) -> None:
    day = date(2027, 3, 2)
    chains = _chains(day)
    store = EventStore(database_url)
    store.write(_stored(chains[:4], first_seq=1))
    store.write(_stored(chains[2:6], first_seq=3))

    written = [store.write(_stored(chains[i : i + 2], first_seq=i + 1)) for i in (6, 8)]
    store.close()

    assert [w.option_ticks for w in written] == [_rows(chains[6:8]), _rows(chains[8:10])]
    assert _ticks_on(database_url, day) == (_rows(chains[:10]), _rows(chains[:10]))
