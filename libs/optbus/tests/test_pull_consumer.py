import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from nats.errors import TimeoutError as NatsTimeoutError

from optbus.runtime.consumer import PullConsumer, PullConsumerSpec


@dataclass
class FakeMsg:
    data: bytes
    naks: list[float] = field(default_factory=list)

    async def nak(self, delay: float) -> None:
        self.naks.append(delay)


class FakeSubscription:
    def __init__(self, batches: list[list[FakeMsg]]) -> None:
        self._batches = batches
        self.unsubscribed = False

    async def fetch(self, batch: int, timeout: float) -> list[FakeMsg]:  # noqa: ASYNC109
        if self._batches:
            return self._batches.pop(0)
        await asyncio.sleep(0.01)
        raise NatsTimeoutError

    async def unsubscribe(self) -> None:
        self.unsubscribed = True


class FakeJetStream:
    def __init__(self, subscription: FakeSubscription) -> None:
        self.subscription = subscription

    async def pull_subscribe(self, *args: object, **kwargs: object) -> FakeSubscription:
        return self.subscription


SPEC = PullConsumerSpec(stream="MD", subject="md.>", durable="test", retry_delay_seconds=0.5)


async def _run(consumer: PullConsumer, seconds: float = 0.1) -> None:
    await consumer.start()
    await asyncio.sleep(seconds)
    await consumer.stop()


async def test_every_fetched_batch_reaches_the_handler_whole() -> None:
    batches = [[FakeMsg(b"1"), FakeMsg(b"2")], [FakeMsg(b"3")]]
    seen: list[list[bytes]] = []

    async def handler(batch: Sequence[FakeMsg]) -> None:
        seen.append([msg.data for msg in batch])

    js = FakeJetStream(FakeSubscription(batches))
    await _run(PullConsumer(lambda: js, SPEC, handler, "svc"))  # type: ignore[arg-type, return-value]

    assert seen == [[b"1", b"2"], [b"3"]]


async def test_a_batch_whose_handler_fails_is_nakd_with_the_retry_delay() -> None:
    batch = [FakeMsg(b"1"), FakeMsg(b"2")]

    async def handler(batch: Sequence[FakeMsg]) -> None:
        raise RuntimeError("boom")

    js = FakeJetStream(FakeSubscription([batch]))
    await _run(PullConsumer(lambda: js, SPEC, handler, "svc"))  # type: ignore[arg-type, return-value]

    assert [msg.naks for msg in batch] == [[0.5], [0.5]]


async def test_the_consumer_keeps_going_after_a_failed_batch() -> None:
    calls: list[bytes] = []

    async def handler(batch: Sequence[FakeMsg]) -> None:
        calls.append(batch[0].data)
        if batch[0].data == b"bad":
            raise RuntimeError("boom")

    js = FakeJetStream(FakeSubscription([[FakeMsg(b"bad")], [FakeMsg(b"good")]]))
    await _run(PullConsumer(lambda: js, SPEC, handler, "svc"))  # type: ignore[arg-type, return-value]

    assert calls == [b"bad", b"good"]


async def test_stopping_drops_the_subscription() -> None:
    async def handler(batch: Sequence[FakeMsg]) -> None:
        return None

    subscription = FakeSubscription([])
    js = FakeJetStream(subscription)
    await _run(PullConsumer(lambda: js, SPEC, handler, "svc"))  # type: ignore[arg-type, return-value]

    assert subscription.unsubscribed
