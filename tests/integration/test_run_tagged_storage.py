"""Events stored under a run id: a replay's own rows beside the live ones, never mixed."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import Event, OptionChainSnapshot
from optbus.market import load_market_facts
from optbus.rates import DatedRate
from optbus.routing import subject_of
from optbus.timestamps import datetime_from_ns
from optbus_greeks.domain import GreeksConfig
from optbus_greeks.handlers import price_snapshot
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.store import EventStore
from optbus_trainer.recorded import market_events

from .conftest import simulated_steps

pytestmark = pytest.mark.integration

DAY = date(2026, 12, 3)


def _write(database_url: str, run_id: str, events: list[Event], stream: str = "MD") -> None:
    store = EventStore(database_url, run_id)
    store.write([decode_stored(BusMessage(stream, seq, subject_of(e), encode(e), e.ts_event, None))
                 for seq, e in enumerate(events, start=1)])  # fmt: skip
    store.close()


def _count(database_url: str, query: str, *args: object) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query, args).fetchone()
    return int(row[0]) if row else 0


def test_the_same_stream_sequence_is_kept_once_per_run(database_url: str) -> None:
    events = simulated_steps(DAY, 1, "it-runs")[0]
    _write(database_url, "it-run-a", events)

    _write(database_url, "it-run-b", events)
    _write(database_url, "it-run-b", events)

    query = "SELECT count(*) FROM events WHERE run_id = %s AND time::date = %s"
    counts = [_count(database_url, query, run, DAY) for run in ("it-run-a", "it-run-b")]
    assert counts == [len(events), len(events)]


def test_a_replay_run_fills_no_option_ticks(database_url: str) -> None:

    facts = load_market_facts()
    config = GreeksConfig(rate_at=DatedRate(facts), expiry_close_ns=facts.expiry_close_ns)
    snapshot = next(e for e in simulated_steps(DAY, 1, "it-ticks")[0]
                    if isinstance(e, OptionChainSnapshot))  # fmt: skip
    chains = price_snapshot(snapshot, config, ReplayClock(snapshot.ts_event))
    before = _count(database_url, "SELECT count(*) FROM option_ticks")

    _write(database_url, "it-run-ticks", chains, stream="ANALYTICS")

    assert _count(database_url, "SELECT count(*) FROM option_ticks") == before
    assert _count(database_url, "SELECT count(*) FROM events WHERE run_id = 'it-run-ticks'") == 1


def test_the_trainer_reads_no_chain_a_replay_stored(database_url: str) -> None:
    facts = load_market_facts()
    config = GreeksConfig(rate_at=DatedRate(facts), expiry_close_ns=facts.expiry_close_ns)
    snapshot = next(e for e in simulated_steps(DAY, 1, "it-run-chains")[0]
                    if isinstance(e, OptionChainSnapshot))  # fmt: skip
    [chain] = price_snapshot(snapshot, config, ReplayClock(snapshot.ts_event))
    _write(database_url, "it-run-chains", [chain], stream="ANALYTICS")
    at = datetime_from_ns(chain.ts_event)

    read = market_events(database_url, at - timedelta(seconds=1), at + timedelta(seconds=1))

    assert chain.event_id not in {event.event_id for event in read}
