"""Encoding and decoding of bus messages with msgspec: JSON on the wire, typed in memory."""

from __future__ import annotations

import base64
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


def dead_letter_payload(data: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    """The original bytes as text for a dead letter: UTF-8 when they are, else base64."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def original_bytes(letter: DeadLetter) -> bytes:
    """The exact bytes a dead letter was made from."""
    if letter.payload_encoding == "base64":
        return base64.b64decode(letter.payload)
    return letter.payload.encode("utf-8")
