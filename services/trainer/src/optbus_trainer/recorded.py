"""Reading training data from the database: recorded chains with Greeks and India VIX ticks
(the events the strategy service scored on), and closed trades, over a time window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from optbus import database
from optbus.codec import Decoder
from optbus.events import ChainGreeks, TradeClosed, VolatilityIndexTick
from optbus.market import MarketFacts
from optbus.timestamps import epoch_ns
from optbus_trainer.chains_dataset import ChainSampling, ChainSet, ChainSetBuilder

MarketEvent = ChainGreeks | VolatilityIndexTick
_market_decoder: Decoder[MarketEvent] = Decoder(MarketEvent)  # type: ignore[arg-type]
_trade_decoder = Decoder(TradeClosed)
# The live system's events only: a replay stores what its services emitted under its run id.
_MARKET_WINDOW = (
    "run_id = 'live' AND type IN ('greeks.chain', 'md.vix') AND time >= %s AND time < %s"
)
_CHAINS_IN_WINDOW = (
    "SELECT count(*) FROM events WHERE run_id = 'live' AND type = 'greeks.chain' "
    "AND time >= %s AND time < %s"
)

Progress = Callable[[int, int], None]
"""Told (chains read, chains in all) as a chain set is built."""


def market_events(database_url: str, start: datetime, end: datetime) -> Iterator[MarketEvent]:
    """The recorded chains with Greeks and VIX ticks of ``[start, end)``, in event order."""
    # A VIX tick goes before a chain of the same instant: the chain took the greeks service's
    # extra hop, so that is the order the strategy service receives them in.
    query = (
        f"SELECT payload::text FROM events WHERE {_MARKET_WINDOW} "
        "ORDER BY ts_event, type <> 'md.vix', stream, seq"
    )
    with database.connect(database_url) as conn, conn.cursor(name="optbus_chain_set") as cursor:
        cursor.itersize = 500
        cursor.execute(query, (start, end))
        for row in cursor:
            yield _market_decoder.decode(row[0].encode())


def chains_between(database_url: str, start: datetime, end: datetime) -> int:
    """How many recorded chains with Greeks ``[start, end)`` holds."""
    with database.connect(database_url) as conn:
        row = conn.execute(_CHAINS_IN_WINDOW, (start, end)).fetchone()
    return int(row[0]) if row else 0


def build_chain_set(
    database_url: str,
    start: datetime,
    end: datetime,
    facts: MarketFacts,
    sampling: ChainSampling | None = None,
    *,
    warmup: timedelta = timedelta(0),
    progress: Progress | None = None,
) -> ChainSet:
    """The chain rows sampled in ``[start, end)``: the ``warmup`` before it fills the feature
    history, and events up to the horizon (and its allowed delay) after it give the labels."""
    sampling = sampling or ChainSampling()
    after = timedelta(minutes=sampling.horizon_minutes,
                      seconds=sampling.max_label_delay_seconds + 1)  # fmt: skip
    read_from, read_to = start - warmup, end + after
    builder = ChainSetBuilder(
        facts, sampling, emit_from_ns=epoch_ns(start), emit_until_ns=epoch_ns(end)
    )
    total = chains_between(database_url, read_from, read_to) if progress else 0
    for event in market_events(database_url, read_from, read_to):
        builder.observe(event)
        if progress and isinstance(event, ChainGreeks):
            progress(builder.chains_seen, total)
    return builder.finish()


def closed_trades(
    database_url: str, start: datetime | None = None, end: datetime | None = None
) -> list[TradeClosed]:
    """The live trades closed in ``[start, end)`` (unbounded where None), oldest first."""
    query = (
        "SELECT payload::text FROM events WHERE run_id = 'live' AND type = 'exec.trade.closed' "
        "AND time >= coalesce(%s, '-infinity'::timestamptz) "
        "AND time < coalesce(%s, 'infinity'::timestamptz) ORDER BY time, seq"
    )
    with database.connect(database_url) as conn:
        rows = conn.execute(query, (start, end)).fetchall()
    return [_trade_decoder.decode(row[0].encode()) for row in rows]
