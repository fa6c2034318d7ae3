from dataclasses import dataclass, field

from optbus.clock import ReplayClock
from optbus.codec import encode
from optbus.events import Event
from optbus_greeks.handlers import GreeksDeps, handle_snapshots

from .test_greeks_enrich_chain import CONFIG, TS, _model_prices, _snapshot


@dataclass
class FakeMsg:
    data: bytes
    subject: str = "md.chain.NIFTY.20261208"
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


def _deps(publisher: FakePublisher, dead_letters: FakeDeadLetters) -> GreeksDeps:
    return GreeksDeps(
        service="greeks", consumer="greeks", config=CONFIG, clock=ReplayClock(TS),
        publisher=publisher, dead_letters=dead_letters,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_a_priced_snapshot_is_published_on_its_greeks_subject_and_acked() -> None:
    publisher, dead_letters = FakePublisher(), FakeDeadLetters()
    msg = FakeMsg(encode(_snapshot(*_model_prices())))

    await handle_snapshots([msg], _deps(publisher, dead_letters))  # type: ignore[list-item]

    assert [subject for subject, _ in publisher.published] == ["greeks.chain.NIFTY.20261208"]
    assert msg.acked


async def test_a_malformed_snapshot_is_parked_and_the_rest_of_the_batch_is_priced() -> None:
    publisher, dead_letters = FakePublisher(), FakeDeadLetters()
    bad, good = FakeMsg(b"{"), FakeMsg(encode(_snapshot(*_model_prices())))

    await handle_snapshots([bad, good], _deps(publisher, dead_letters))  # type: ignore[list-item]

    assert [(msg, reason.split(":")[0]) for msg, reason in dead_letters.parked] == [
        (bad, "malformed JSON")
    ]
    assert len(publisher.published) == 1
    assert good.acked
