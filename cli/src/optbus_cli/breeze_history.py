"""``optbus import breeze``: ICICI Breeze's historical bars into recorded sessions.

Two stages per trading day. Fetch: the index's bars first (they say which strikes were near the
money), then the near-month future's and each option's within ``strikes_each_side`` of any
bar's money, one contract-day at a time, each stored whole in its own transaction with its
mark in ``breeze_contract_days`` (a marked contract-day is never asked for again). Record: the
stored bars become ``md.chain`` snapshots (history_chain) and their Greeks, written through the
persistence service's own rows and store under run 'live', exactly as the live system records a
session, so ``optbus backtest --from/--to`` and ``optbus replay`` read them. Recording again
stores nothing new (the ids are derived from the chain and the time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import psycopg

from optbus import database
from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import Event
from optbus.market import MarketFacts
from optbus.rates import DatedRate
from optbus.subjects import greeks_chain, md_chain
from optbus.timestamps import datetime_from_ns
from optbus_brokers.icici_breeze.history import (
    INTERVAL_SECONDS,
    Bar,
    BreezeHistory,
    HistoryContract,
    HistoryRefused,
    Interval,
    Right,
)
from optbus_brokers.icici_breeze.history_chain import (
    ChainSpec,
    SpreadRule,
    chain_snapshots,
    strikes_around,
)
from optbus_greeks.domain import GreeksConfig, enrich_chain
from optbus_persistence.rows import BusMessage, StoredEvent, decode_stored
from optbus_persistence.schema import read_mode
from optbus_persistence.store import EventStore

BREEZE_STOCK_CODES = {"NIFTY": "NIFTY", "BANKNIFTY": "CNXBAN"}
SHOWN_REJECTIONS = 20
_NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class BreezeImport:
    """What to import: an underlying, trading days, expiries (none: each day's nearest)."""

    underlying: str
    first_day: date
    last_day: date
    expiries: tuple[date, ...] = ()
    strikes_each_side: int = 10
    interval: Interval = "1minute"
    spread: SpreadRule = field(default_factory=SpreadRule)


@dataclass(slots=True)
class ImportOutcome:
    """What an import left undone: bars skipped, and days not recorded for want of a
    contract-day Breeze did not serve (a run again fetches those and records the days)."""

    skipped_bars: int = 0
    unrecorded_days: int = 0
    missing: int = field(default=0, repr=False)  # contract-days of the current day not served


async def import_breeze(
    request: BreezeImport,
    history: BreezeHistory,
    database_url: str,
    facts: MarketFacts,
    say: Callable[[str], None],
) -> ImportOutcome:
    """Fetch and record every trading day of ``request``.

    A day is recorded only once every one of its contract-days is stored: its events' ids are
    fixed by the chain and the time, so a day recorded with a contract missing would stay so.
    """
    outcome = ImportOutcome()
    with database.connect(database_url) as conn:
        # Each write is a transaction block of its own; a read between them must not open
        # one around them, or a stopped run would lose what it had stored.
        conn.autocommit = True
        read_mode(conn)  # a database never migrated says so here, not as a missing table
        day = facts.trading_day_from(request.first_day)
        while day <= request.last_day:
            outcome.missing = 0
            await _fetch_day(request, history, conn, facts, day, outcome, say)
            if outcome.missing:
                outcome.unrecorded_days += 1
                say(f"{day}: not recorded: {outcome.missing} contract-days were not served")
            else:
                for expiry in _expiries(request, facts, day):
                    chains = _record_chain(request, conn, database_url, facts, day, expiry)
                    say(
                        f"{day}: {request.underlying} {expiry}: {chains:,} chain snapshots recorded"
                    )
            day = facts.next_trading_day(day)
    return outcome


def _expiries(request: BreezeImport, facts: MarketFacts, day: date) -> list[date]:
    if request.expiries:
        return [expiry for expiry in request.expiries if expiry >= day]
    return facts.expiries(request.underlying, day, 1)


def _index(request: BreezeImport) -> HistoryContract:
    return HistoryContract(request.underlying, BREEZE_STOCK_CODES[request.underlying], "cash")


def _future(request: BreezeImport, facts: MarketFacts, day: date) -> HistoryContract:
    expiry = facts.monthly_expiries(request.underlying, day, 1)[0]
    code = BREEZE_STOCK_CODES[request.underlying]
    return HistoryContract(request.underlying, code, "futures", expiry)


def _option(request: BreezeImport, expiry: date, strike: float, right: Right) -> HistoryContract:
    code = BREEZE_STOCK_CODES[request.underlying]
    return HistoryContract(request.underlying, code, "options", expiry, right, strike)


async def _fetch_day(
    request: BreezeImport,
    history: BreezeHistory,
    conn: psycopg.Connection,
    facts: MarketFacts,
    day: date,
    outcome: ImportOutcome,
    say: Callable[[str], None],
) -> None:
    """Fetch the contract-days of ``day`` not stored yet, counting into ``outcome``."""
    fetched = _fetched_contract_days(conn, day)
    index = _index(request)
    await _fetch_contract_day(history, conn, facts, index, day, request, fetched, outcome, say)
    spot_bars = _stored_bars(conn, index.key, *_session_ns(facts, day))
    step = facts.contract(request.underlying, day).strike_step
    strikes = sorted(
        {s for bar in spot_bars for s in strikes_around(bar.close, step, request.strikes_each_side)}
    )
    contracts = [_future(request, facts, day)] + [
        _option(request, expiry, strike, right)
        for expiry in _expiries(request, facts, day)
        for strike in strikes
        for right in ("call", "put")
    ]
    for number, contract in enumerate(contracts, start=1):
        if contract.key not in fetched:
            say(f"{day}: [{number}/{len(contracts)}] {contract.key}")
        await _fetch_contract_day(
            history, conn, facts, contract, day, request, fetched, outcome, say
        )


async def _fetch_contract_day(
    history: BreezeHistory,
    conn: psycopg.Connection,
    facts: MarketFacts,
    contract: HistoryContract,
    day: date,
    request: BreezeImport,
    fetched: set[str],
    outcome: ImportOutcome,
    say: Callable[[str], None],
) -> None:
    if contract.key in fetched:
        return
    hours = facts.session_hours(day)
    try:
        parsed = await history.day_bars(contract, day, request.interval, hours.open, hours.close)
    except HistoryRefused as error:
        say(f"  {contract.key} on {day}: not stored ({error}); an import run again retries it")
        outcome.missing += 1
        return
    _store_contract_day(conn, contract.key, day, parsed.bars, len(parsed.rejected))
    outcome.skipped_bars += len(parsed.rejected)
    for rejected in parsed.rejected[:SHOWN_REJECTIONS]:
        say(f"  {rejected.contract} at {rejected.time}: skipped: {rejected.reason}")
    if len(parsed.rejected) > SHOWN_REJECTIONS:
        say(f"  ... and {len(parsed.rejected) - SHOWN_REJECTIONS:,} more bars skipped")


def _record_chain(
    request: BreezeImport,
    conn: psycopg.Connection,
    database_url: str,
    facts: MarketFacts,
    day: date,
    expiry: date,
) -> int:
    """Record one expiry's chain of ``day`` from the stored bars, in one transaction."""
    start_ns, end_ns = _session_ns(facts, day)
    spec = facts.contract(request.underlying, day)
    chain = ChainSpec(
        underlying=request.underlying,
        expiry=expiry,
        lot_size=spec.lot_size,
        strike_step=spec.strike_step,
        tick_size=spec.tick_size,
        strikes_each_side=request.strikes_each_side,
        interval_ns=INTERVAL_SECONDS[request.interval] * _NS_PER_SECOND,
        spread=request.spread,
    )
    rights: tuple[Right, Right] = ("call", "put")
    option_bars = {
        (strike, right): _stored_bars(
            conn, _option(request, expiry, strike, right).key, start_ns, end_ns
        )
        for strike in _stored_strikes(conn, request, expiry, day)
        for right in rights
    }
    snapshots = chain_snapshots(
        chain,
        _stored_bars(conn, _index(request).key, start_ns, end_ns),
        _stored_bars(conn, _future(request, facts, day).key, start_ns, end_ns),
        option_bars,
    )
    config = GreeksConfig(rate_at=DatedRate(facts), expiry_close_ns=facts.expiry_close_ns)
    batch: list[StoredEvent] = []
    for snapshot in snapshots:
        greeks = enrich_chain(snapshot, config, ReplayClock(snapshot.ts_event))
        batch.append(_stored(snapshot, "MD", md_chain(snapshot.underlying, expiry)))
        batch.append(_stored(greeks, "ANALYTICS", greeks_chain(snapshot.underlying, expiry)))
    store = EventStore(database_url)
    try:
        store.write(batch)
    finally:
        store.close()
    return len(snapshots)


def _stored(event: Event, stream: str, subject: str) -> StoredEvent:
    message = BusMessage(
        stream=stream,
        seq=event.ts_event // _NS_PER_SECOND,
        subject=subject,
        data=encode(event),
        stored_ns=event.ts_event,
        msg_id=event.event_id,
    )
    return decode_stored(message)


def _session_ns(facts: MarketFacts, day: date) -> tuple[int, int]:
    return facts.session_open_ns(day), facts.session_close_ns(day)


def _fetched_contract_days(conn: psycopg.Connection, day: date) -> set[str]:
    rows = conn.execute("SELECT contract FROM breeze_contract_days WHERE day = %s", (day,))
    return {row[0] for row in rows}


def _stored_strikes(
    conn: psycopg.Connection, request: BreezeImport, expiry: date, day: date
) -> list[float]:
    prefix = f"{request.underlying}:options:{expiry.isoformat()}:"
    rows = conn.execute(
        "SELECT DISTINCT split_part(contract, ':', 4)::float8 FROM breeze_contract_days "
        "WHERE day = %s AND starts_with(contract, %s)",
        (day, prefix),
    )
    return [row[0] for row in rows]


def _store_contract_day(
    conn: psycopg.Connection, contract: str, day: date, bars: Sequence[Bar], skipped: int
) -> None:
    """One contract-day's bars and its mark in one transaction: stored whole, or not at all."""
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO breeze_bars (contract, time, open, high, low, close, volume, "
            "open_interest) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (
                    contract,
                    datetime_from_ns(bar.open_ns),
                    bar.open,
                    bar.high,
                    bar.low,
                    bar.close,
                    bar.volume,
                    bar.open_interest,
                )
                for bar in bars
            ],
        )
        cursor.execute(
            "INSERT INTO breeze_contract_days (contract, day, bars, skipped) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (contract, day, len(bars), skipped),
        )


def _bar_row(contract: str, bar: Bar) -> tuple[object, ...]:
    return (
        contract, datetime_from_ns(bar.open_ns), bar.open, bar.high, bar.low, bar.close,
        bar.volume, bar.open_interest,
    )  # fmt: skip


def _stored_bars(conn: psycopg.Connection, contract: str, start_ns: int, end_ns: int) -> list[Bar]:
    rows = conn.execute(
        "SELECT (extract(epoch FROM time) * 1e9)::bigint, open, high, low, close, volume, "
        "open_interest FROM breeze_bars WHERE contract = %s AND time >= %s AND time < %s "
        "ORDER BY time",
        (contract, datetime_from_ns(start_ns), datetime_from_ns(end_ns)),
    )
    return [Bar(*row) for row in rows]
