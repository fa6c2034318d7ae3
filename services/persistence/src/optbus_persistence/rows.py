"""Pure mapping from bus messages to table rows: what gets stored, and how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from optbus.codec import Decoder, UndecodableMessage
from optbus.events import BusEvent, ChainGreeks, Event, KillSwitchCommand
from optbus.ids import derived_event_id
from optbus.subjects import KILLSWITCH, killswitch_operator
from optbus.timestamps import datetime_from_ns
from optbus.trading_tables import TableRow, trading_row

EVENT_COLUMNS = (
    "time", "stream", "seq", "subject", "type", "event_id", "ts_event", "ts_init", "payload",
    "raw_payload", "run_id",
)  # fmt: skip
EVENT_TYPES = (
    "timestamptz", "text", "int8", "text", "text", "text", "int8", "int8", "jsonb", "bytea",
    "text",
)  # fmt: skip
LIVE_RUN_ID = "live"
"""The run id of what the live system records; replays store under their own."""

OPTION_TICK_COLUMNS = (
    "time", "underlying", "expiry", "strike", "option_type", "bid", "ask", "last", "bid_size",
    "ask_size", "volume", "open_interest", "spot", "forward", "iv", "delta", "gamma", "theta",
    "vega", "rho", "iv_status", "synthetic_quote",
)  # fmt: skip
OPTION_TICK_TYPES = (
    "timestamptz", "text", "date", "float8", "text", "float8", "float8", "float8", "int4",
    "int4", "int8", "int8", "float8", "float8", "float8", "float8", "float8", "float8",
    "float8", "float8", "text", "bool",
)  # fmt: skip

_NUL = "\x00"
_NUL_ESCAPE = b"\\u0000"
_REPLACEMENT = "\ufffd"


class UnstorableMessage(ValueError):
    """A message no database state can store: it does not decode, or it cannot be mapped to
    rows. It is parked with the reason; retrying it would fail the same way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BusMessage:
    """A message as JetStream delivered it: where it sits in its stream, and its bytes."""

    stream: str
    seq: int
    subject: str
    data: bytes
    stored_ns: int
    msg_id: str | None


@dataclass(frozen=True)
class StoredEvent:
    """A message mapped to everything it is written as: its ``events`` row (without the run id)
    and its rows in the tables derived from events (none for most messages).

    The mapping is done when the message is decoded, one message at a time, so that a message
    that cannot be mapped fails alone instead of failing the batch it came in.
    """

    message: BusMessage
    event_row: tuple[Any, ...]
    tick_rows: list[tuple[Any, ...]]
    trading_row: TableRow | None


_event_decoder: Decoder[BusEvent] = Decoder(BusEvent)  # type: ignore[arg-type]
_command_decoder = Decoder(KillSwitchCommand)


def decode_stored(message: BusMessage) -> StoredEvent:
    """Decode a message and map it to its rows; ``UnstorableMessage`` when either fails."""
    command = killswitch_operator(message.subject) is not None
    decoder = _command_decoder if command else _event_decoder
    try:
        event = decoder.decode(message.data)
    except UndecodableMessage as exc:
        raise UnstorableMessage(exc.reason) from exc
    try:
        return StoredEvent(
            message=message,
            event_row=_event_row(message, event),
            tick_rows=option_tick_rows(event) if isinstance(event, ChainGreeks) else [],
            trading_row=_storable_trading_row(event),
        )
    except Exception as exc:  # whatever the cause, it is this message's alone
        raise UnstorableMessage(f"cannot be mapped to rows: {exc!r}") from exc


def _event_row(message: BusMessage, event: Event | KillSwitchCommand) -> tuple[Any, ...]:
    """The row of a message in the ``events`` table, without its run id."""
    if isinstance(event, KillSwitchCommand):
        ts_event = ts_init = message.stored_ns
        event_type = KILLSWITCH
        event_id = message.msg_id or derived_event_id(message.stream, message.seq)
    else:
        ts_event, ts_init = event.ts_event, event.ts_init
        event_type = type(event).__struct_config__.tag  # type: ignore[assignment]
        event_id = event.event_id
    payload, raw_payload = storable_payload(message.data)
    return (
        datetime_from_ns(ts_event), message.stream, message.seq, storable_text(message.subject),
        event_type, storable_text(event_id), ts_event, ts_init, payload, raw_payload,
    )  # fmt: skip


def storable_text(text: str) -> str:
    """``text`` as PostgreSQL's text accepts it: NUL, which it refuses, as U+FFFD."""
    return text.replace(_NUL, _REPLACEMENT)


def _storable_texts(texts: list[str]) -> list[str]:
    """``storable_text`` of each of ``texts``; the list itself when none holds a NUL (every
    option of every chain passes here: one search of the joined text, not a call each)."""
    if _NUL not in "".join(texts):
        return texts
    return [storable_text(text) for text in texts]


def storable_payload(data: bytes) -> tuple[bytes, bytes | None]:
    """A message's JSON as jsonb accepts it, and its exact bytes when those had to change.

    jsonb refuses the escape ``\\u0000``: such a message is stored with U+FFFD for each NUL,
    and its original bytes beside it (``raw_payload``), so that the record is complete and the
    stored row says it was sanitised. Any other message is stored as it came, with no copy.
    """
    if _NUL_ESCAPE not in data:
        return data, None
    original = msgspec.json.decode(data)
    sanitised = _storable(original)
    if sanitised == original:  # the escape was text (an escaped backslash), not a NUL
        return data, None
    return msgspec.json.encode(sanitised), data


def _storable(value: Any) -> Any:
    """A JSON-able value with every string in it, keys too, as PostgreSQL accepts it."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {storable_text(key): _storable(item) for key, item in value.items()}
    return value


def _storable_trading_row(event: Event | KillSwitchCommand) -> TableRow | None:
    """The event's trading-table row with its text as PostgreSQL accepts it (the exact text
    stays in the event's ``events`` row)."""
    row = trading_row(event)
    return None if row is None else TableRow(row.table, _storable(row.values))


def option_tick_rows(chain: ChainGreeks) -> list[tuple[Any, ...]]:
    """One ``option_ticks`` row per option of the chain: its quote, the market and its Greeks,
    and whether the quote was modelled (a side without ``synthetic`` marks has none)."""
    snap = chain.snapshot
    time = datetime_from_ns(snap.ts_event)
    underlying = storable_text(snap.underlying)
    rows: list[tuple[Any, ...]] = []
    for option_type, quotes, greeks in (
        ("CE", snap.calls, chain.calls),
        ("PE", snap.puts, chain.puts),
    ):
        rows.extend(
            zip(
                [time] * len(snap.strikes),
                [underlying] * len(snap.strikes),
                [snap.expiry] * len(snap.strikes),
                snap.strikes,
                [option_type] * len(snap.strikes),
                quotes.bid,
                quotes.ask,
                quotes.last,
                quotes.bid_size,
                quotes.ask_size,
                quotes.volume,
                quotes.open_interest,
                [snap.spot] * len(snap.strikes),
                [chain.forward] * len(snap.strikes),
                greeks.iv,
                greeks.delta,
                greeks.gamma,
                greeks.theta,
                greeks.vega,
                greeks.rho,
                _storable_texts(greeks.iv_status),
                quotes.synthetic or [False] * len(snap.strikes),
                strict=True,
            )
        )
    return rows
