from dataclasses import dataclass, field

from optbus.codec import Decoder, encode
from optbus.events import EndOfDay, Event
from optbus.runtime.dispatch import Dispatcher


@dataclass
class FakeMsg:
    data: bytes
    subject: str = "control.eod"
    acked: bool = False

    async def ack(self) -> None:
        self.acked = True


@dataclass
class FakePublisher:
    published: list[tuple[str, Event]] = field(default_factory=list)

    async def publish_all(self, batch: list[tuple[str, Event]]) -> None:
        self.published.extend(batch)


@dataclass
class FakeDeadLetters:
    parked: list[tuple[FakeMsg, str]] = field(default_factory=list)

    async def park(self, msg: FakeMsg, reason: str) -> None:
        self.parked.append((msg, reason))


def _eod(event_id: str) -> EndOfDay:
    from datetime import date

    return EndOfDay(event_id=event_id, ts_event=1, ts_init=1, trading_date=date(2026, 12, 1))


def _echo(event: EndOfDay) -> list[Event]:
    if event.event_id == "explode":
        raise ValueError("cannot handle")
    return [_eod(f"{event.event_id}-out")]


def _dispatcher(publisher: FakePublisher, dead_letters: FakeDeadLetters) -> Dispatcher:
    return Dispatcher(
        service="svc", consumer="c", decoder=Decoder(EndOfDay), handle=_echo,
        publisher=publisher, dead_letters=dead_letters,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_what_a_handler_returns_is_published_on_its_subject_and_the_input_acked() -> None:
    publisher, dead_letters = FakePublisher(), FakeDeadLetters()
    msg = FakeMsg(encode(_eod("a")))

    await _dispatcher(publisher, dead_letters)([msg])  # type: ignore[list-item]

    assert [(subject, e.event_id) for subject, e in publisher.published] == [
        ("control.eod", "a-out")
    ]
    assert msg.acked


async def test_a_malformed_message_is_parked_and_the_rest_of_the_batch_handled() -> None:
    publisher, dead_letters = FakePublisher(), FakeDeadLetters()
    bad, good = FakeMsg(b"{"), FakeMsg(encode(_eod("b")))

    await _dispatcher(publisher, dead_letters)([bad, good])  # type: ignore[list-item]

    assert [(m, r.split(":")[0]) for m, r in dead_letters.parked] == [(bad, "malformed JSON")]
    assert good.acked


async def test_a_message_the_handler_raises_on_is_parked_with_the_error() -> None:
    publisher, dead_letters = FakePublisher(), FakeDeadLetters()
    msg = FakeMsg(encode(_eod("explode")))

    await _dispatcher(publisher, dead_letters)([msg])  # type: ignore[list-item]

    assert dead_letters.parked[0][1].startswith("handler failed: ValueError")
    assert not msg.acked
