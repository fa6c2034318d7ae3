from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import msgspec
import pytest
from nats.errors import ConnectionClosedError

from optbus.codec import Decoder, encode
from optbus.events import EndOfDay, Event
from optbus.runtime.bus import EventPublisher
from optbus.runtime.dispatch import Dispatcher


@dataclass
class FakeMsg:
    data: bytes
    subject: str = "control.eod"
    acked: bool = False

    async def ack(self) -> None:
        self.acked = True


@dataclass
class RecordingJetStream:
    """Stores what is published, in order, into ``log``; holds each confirmation until
    ``confirm`` is set, or fails it with ``error``."""

    log: list[str]
    confirm: asyncio.Event = field(default_factory=asyncio.Event)
    error: Exception | None = None

    def __post_init__(self) -> None:
        self.confirm.set()

    async def publish(self, subject: str, payload: bytes, **_: object) -> None:
        event_id = msgspec.json.decode(payload)["event_id"]
        self.log.append(f"published {event_id} on {subject}")
        await self.confirm.wait()
        if self.error is not None:
            raise self.error


@dataclass
class FakeDeadLetters:
    parked: list[tuple[FakeMsg, str]] = field(default_factory=list)

    async def park(self, msg: FakeMsg, reason: str) -> None:
        self.parked.append((msg, reason))


def _eod(event_id: str) -> EndOfDay:
    from datetime import date

    return EndOfDay(event_id=event_id, ts_event=1, ts_init=1, trading_date=date(2026, 12, 1))


def _msg(event_id: str) -> FakeMsg:
    return FakeMsg(encode(_eod(event_id)))


def _dispatcher(js: RecordingJetStream, dead_letters: FakeDeadLetters) -> Dispatcher:
    def echo(event: EndOfDay) -> list[Event]:
        js.log.append(f"handled {event.event_id}")
        if event.event_id == "explode":
            raise ValueError("cannot handle")
        return [_eod(f"{event.event_id}-out")]

    publisher = EventPublisher(lambda: js, "svc")  # type: ignore[arg-type, return-value]
    return Dispatcher(
        service="svc", consumer="c", decoder=Decoder(EndOfDay), handle=echo,
        publisher=publisher, dead_letters=dead_letters,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_what_a_handler_returns_is_published_on_its_subject_and_the_input_acked() -> None:
    js, dead_letters = RecordingJetStream([]), FakeDeadLetters()
    msg = _msg("a")

    await _dispatcher(js, dead_letters)([msg])  # type: ignore[list-item]

    assert js.log == ["handled a", "published a-out on control.eod"]
    assert msg.acked


async def test_a_malformed_message_is_parked_and_the_rest_of_the_batch_handled() -> None:
    js, dead_letters = RecordingJetStream([]), FakeDeadLetters()
    bad, good = FakeMsg(b"{"), _msg("b")

    await _dispatcher(js, dead_letters)([bad, good])  # type: ignore[list-item]

    assert [(m, r.split(":")[0]) for m, r in dead_letters.parked] == [(bad, "malformed JSON")]
    assert good.acked


async def test_a_message_the_handler_raises_on_is_parked_with_the_error() -> None:
    js, dead_letters = RecordingJetStream([]), FakeDeadLetters()
    msg = _msg("explode")

    await _dispatcher(js, dead_letters)([msg])  # type: ignore[list-item]

    assert dead_letters.parked[0][1].startswith("handler failed: ValueError")
    assert not msg.acked


async def test_a_messages_events_are_published_before_the_next_message_is_handled() -> None:
    js = RecordingJetStream([])

    await _dispatcher(js, FakeDeadLetters())([_msg("a"), _msg("b")])  # type: ignore[list-item]

    assert js.log == [
        "handled a",
        "published a-out on control.eod",
        "handled b",
        "published b-out on control.eod",
    ]


async def test_no_input_of_a_batch_is_acked_before_every_event_it_caused_is_confirmed() -> None:
    js = RecordingJetStream([])
    js.confirm.clear()
    batch = [_msg("a"), _msg("b")]

    handling = asyncio.create_task(_dispatcher(js, FakeDeadLetters())(batch))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    acked_while_unconfirmed = [msg.acked for msg in batch]
    js.confirm.set()
    await handling

    assert acked_while_unconfirmed == [False, False]
    assert [msg.acked for msg in batch] == [True, True]


async def test_a_batch_whose_events_are_not_stored_fails_and_acks_none_of_its_inputs() -> None:
    js = RecordingJetStream([], error=ConnectionClosedError())
    batch = [_msg("a"), _msg("b")]

    with pytest.raises(ConnectionClosedError):
        await _dispatcher(js, FakeDeadLetters())(batch)  # type: ignore[arg-type]

    assert [msg.acked for msg in batch] == [False, False]
