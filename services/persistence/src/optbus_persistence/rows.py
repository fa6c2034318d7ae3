"""Pure mapping from bus messages to table rows: what gets stored, and how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optbus.codec import Decoder
from optbus.events import BusEvent, ChainGreeks, Event, KillSwitchCommand
from optbus.ids import derived_event_id
from optbus.subjects import KILLSWITCH
from optbus.timestamps import datetime_from_ns

EVENT_COLUMNS = (
    "time", "stream", "seq", "subject", "type", "event_id", "ts_event", "ts_init", "payload",
    "run_id",
)  # fmt: skip
EVENT_TYPES = (
    "timestamptz", "text", "int8", "text", "text", "text", "int8", "int8", "jsonb", "text",
)  # fmt: skip
LIVE_RUN_ID = "live"
"""The run id of what the live system records; replays store under their own."""

OPTION_TICK_COLUMNS = (
    "time", "underlying", "expiry", "strike", "option_type", "bid", "ask", "last", "bid_size",
    "ask_size", "volume", "open_interest", "spot", "forward", "iv", "delta", "gamma", "theta",
    "vega", "rho", "iv_status",
)  # fmt: skip
OPTION_TICK_TYPES = (
    "timestamptz", "text", "date", "float8", "text", "float8", "float8", "float8", "int4",
    "int4", "int8", "int8", "float8", "float8", "float8", "float8", "float8", "float8",
    "float8", "float8", "text",
)  # fmt: skip


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
    """A decoded message ready to be written: the row for ``events`` and the event itself."""

    message: BusMessage
    event: Event | KillSwitchCommand

    def event_row(self) -> tuple[Any, ...]:
        """The row of this message in the ``events`` table."""
        msg = self.message
        if isinstance(self.event, KillSwitchCommand):
            ts_event = ts_init = msg.stored_ns
            event_type = KILLSWITCH
            event_id = msg.msg_id or derived_event_id(msg.stream, msg.seq)
        else:
            ts_event, ts_init = self.event.ts_event, self.event.ts_init
            event_type = type(self.event).__struct_config__.tag  # type: ignore[assignment]
            event_id = self.event.event_id
        return (
            datetime_from_ns(ts_event), msg.stream, msg.seq, msg.subject, event_type, event_id,
            ts_event, ts_init, msg.data,
        )  # fmt: skip


_event_decoder: Decoder[BusEvent] = Decoder(BusEvent)  # type: ignore[arg-type]
_command_decoder = Decoder(KillSwitchCommand)


def decode_stored(message: BusMessage) -> StoredEvent:
    """Decode a message for storage; raises ``UndecodableMessage`` when it does not validate."""
    decoder = _command_decoder if message.subject == KILLSWITCH else _event_decoder
    return StoredEvent(message=message, event=decoder.decode(message.data))


def option_tick_rows(chain: ChainGreeks) -> list[tuple[Any, ...]]:
    """One ``option_ticks`` row per option of the chain: its quote, the market and its Greeks."""
    snap = chain.snapshot
    time = datetime_from_ns(snap.ts_event)
    rows: list[tuple[Any, ...]] = []
    for option_type, quotes, greeks in (
        ("CE", snap.calls, chain.calls),
        ("PE", snap.puts, chain.puts),
    ):
        rows.extend(
            zip(
                [time] * len(snap.strikes),
                [snap.underlying] * len(snap.strikes),
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
                greeks.iv_status,
                strict=True,
            )
        )
    return rows
