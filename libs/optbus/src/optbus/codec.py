"""Encoding and decoding of bus messages with msgspec: JSON on the wire, typed in memory."""

from __future__ import annotations

import base64
import hashlib
from typing import Generic, Literal, TypeVar

import msgspec

from optbus.events import BusEvent, DeadLetter, Event

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


class UndecodableMessage(ValueError):
    """A message that is not valid JSON or does not validate against its event type."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode(event: msgspec.Struct) -> bytes:
    """The wire form of an event: compact JSON."""
    return _encoder.encode(event)


class Decoder(Generic[T]):
    """A reusable, typed decoder that turns every failure into ``UndecodableMessage``."""

    def __init__(self, event_type: type[T]) -> None:
        self._decoder = msgspec.json.Decoder(event_type)

    def decode(self, data: bytes) -> T:
        """Decode ``data`` or raise ``UndecodableMessage`` with a reason a person can act on."""
        try:
            return self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            raise UndecodableMessage(f"invalid event: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise UndecodableMessage(f"malformed JSON: {exc}") from exc


def any_event_decoder() -> Decoder[Event]:
    """A decoder of every bus event, by its tag (the union ``BusEvent``)."""
    return Decoder(BusEvent)  # type: ignore[arg-type]  # a union of Event types is an Event


DEAD_LETTER_KEEPS_BYTES = 64 * 1024
"""How much of an original a dead letter keeps. JSON can write a byte as six (``\\u0001``), so
the payload is at most 384 KiB on the wire, well inside NATS's 1 MB maximum message."""

DEAD_LETTER_KEEPS_REASON = 2_000
"""How many characters of the reason a dead letter keeps: an exception's text can quote a value
of any size, and a letter must always fit in a NATS message."""


def dead_letter(
    *,
    event_id: str,
    ts_event: int,
    ts_init: int,
    original_subject: str,
    stream: str | None,
    stream_seq: int | None,
    consumer: str,
    reason: str,
    data: bytes,
) -> DeadLetter:
    """A letter for ``data`` that always fits in a NATS message: at most the first
    ``DEAD_LETTER_KEEPS_BYTES`` of it, as UTF-8 text when it is valid UTF-8, else base64, with
    the original's size and SHA-256, and the reason cut to ``DEAD_LETTER_KEEPS_REASON``.

    A letter too large to publish would never be published: the message it parks would be
    redelivered, and fail, forever.
    """
    kept = data[:DEAD_LETTER_KEEPS_BYTES]
    payload, encoding = _as_text(data, kept)
    return DeadLetter(
        event_id=event_id,
        ts_event=ts_event,
        ts_init=ts_init,
        original_subject=original_subject,
        stream=stream,
        stream_seq=stream_seq,
        consumer=consumer,
        reason=reason[:DEAD_LETTER_KEEPS_REASON],
        payload=payload,
        payload_encoding=encoding,
        payload_truncated=len(kept) < len(data),
        original_size=len(data),
        original_sha256=hashlib.sha256(data).hexdigest(),
    )


def _as_text(data: bytes, kept: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    """``kept`` (a prefix of ``data``) as text: UTF-8 when ``data`` is, else base64.

    A cut can fall inside a UTF-8 character; only that partial character is dropped, because
    everything before it is valid when the whole is.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(kept).decode("ascii"), "base64"
    return kept.decode("utf-8", errors="ignore"), "utf-8"


class TruncatedDeadLetter(ValueError):
    """A dead letter that keeps only the start of its original, which cannot be rebuilt from it."""


def original_bytes(letter: DeadLetter) -> bytes:
    """The exact bytes a dead letter was made from; ``TruncatedDeadLetter`` when it kept only
    their start (republishing a part as the whole would be worse than not republishing)."""
    if letter.payload_truncated:
        raise TruncatedDeadLetter(
            f"dead letter {letter.event_id} keeps only the start of its original "
            f"({letter.original_size} bytes, sha256 {letter.original_sha256}): "
            f"find the original by its stream sequence ({letter.stream} {letter.stream_seq})"
        )
    if letter.payload_encoding == "base64":
        return base64.b64decode(letter.payload)
    return letter.payload.encode("utf-8")
