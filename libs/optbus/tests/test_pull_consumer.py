import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from optbus.runtime.consumer import PullConsumer, PullConsumerSpec


@dataclass
class FakeMsg:
    data: bytes
    headers: dict[str, str] | None = None
    naks: list[float] = field(default_factory=list)
    seq: int = 1
    delivered: int = 1
    pending: int = 0

    @property
    def metadata(self) -> SimpleNamespace:
        return SimpleNamespace(
            sequence=SimpleNamespace(stream=self.seq),
            num_delivered=self.delivered,
            num_pending=self.pending,
        )

    async def nak(self, delay: float = 0.0) -> None:
        self.naks.append(delay)


def status(code: str, pending: int | None = None) -> FakeMsg:
    headers = {"Status": code}
    if pending is not None:
        headers["Nats-Pending-Messages"] = str(pending)
    return FakeMsg(b"", headers)


class FakeSubscription:
    """``drain`` plays the server's last in-flight messages reaching the callback."""

    def __init__(self) -> None:
        self.drained = False
        self.in_flight: list[FakeMsg] = []
        self.callback: Callable[[FakeMsg], Awaitable[None]] | None = None

    async def drain(self) -> None:
        assert self.callback is not None
        for msg in self.in_flight:
            await self.callback(msg)
        self.drained = True


class FakeJetStream:
    """``existing``: the config of the durable already on the server, if any."""

    def __init__(self, existing: ConsumerConfig | None) -> None:
        self.existing = existing
        self.added: list[tuple[str, ConsumerConfig]] = []
        self.stored: dict[int, SimpleNamespace] = {}

    async def consumer_info(self, stream: str, durable: str) -> SimpleNamespace:
        if self.existing is None:
            raise NotFoundError
        return SimpleNamespace(config=self.existing)

    async def add_consumer(self, stream: str, config: ConsumerConfig) -> None:
        self.added.append((stream, config))

    async def get_msg(self, stream: str, seq: int) -> SimpleNamespace:
        return self.stored[seq]


class FakeClient:
    """Records pull requests; ``deliver`` plays the server pushing messages to the inbox,
    ``advise`` the server publishing an advisory."""

    def __init__(self, existing: ConsumerConfig | None = None) -> None:
        self.js = FakeJetStream(existing)
        self.subscription = FakeSubscription()
        self.advisories: dict[str, Callable[[SimpleNamespace], Awaitable[None]]] = {}
        self.advisory_queues: dict[str, str] = {}
        self.pulls: list[tuple[str, dict[str, int], str]] = []
        self.stats = {"reconnects": 0}
        self.is_connected = True

    def jetstream(self) -> FakeJetStream:
        return self.js

    def new_inbox(self) -> str:
        return "_INBOX.test"

    async def subscribe(
        self, subject: str, cb: Callable[[FakeMsg], Awaitable[None]], queue: str = ""
    ) -> object:
        if subject.startswith("$JS.EVENT.ADVISORY."):
            self.advisories[subject] = cb  # type: ignore[assignment]
            self.advisory_queues[subject] = queue
            return FakeSubscription()
        self.subscription.callback = cb
        return self.subscription

    async def advise(self, subject: str, notice: dict[str, object]) -> None:
        await self.advisories[subject](SimpleNamespace(data=json.dumps(notice).encode()))

    async def publish(self, subject: str, payload: bytes, reply: str) -> None:
        self.pulls.append((subject, json.loads(payload), reply))

    async def deliver(self, *messages: FakeMsg) -> None:
        assert self.subscription.callback is not None
        for msg in messages:
            await self.subscription.callback(msg)
        await asyncio.sleep(0.02)

    def batches_asked(self) -> list[int]:
        return [request["batch"] for _, request, _ in self.pulls]


SPEC = PullConsumerSpec(
    stream="MD", subject="md.>", durable="test", batch_size=4, retry_delay_seconds=0.5,
    backoff_seconds=(1.0, 5.0, 30.0),
)  # fmt: skip


@dataclass
class FakeDeadLetters:
    parked: list[tuple[object, str, str]] = field(default_factory=list)

    async def park_stored(self, stored: object, stream: str, reason: str) -> None:
        self.parked.append((stored, stream, reason))


class Recorder:
    def __init__(self, fail_on: bytes | None = None) -> None:
        self.batches: list[list[bytes]] = []
        self._fail_on = fail_on

    async def __call__(self, batch: Sequence[FakeMsg]) -> None:
        self.batches.append([msg.data for msg in batch])
        if any(msg.data == self._fail_on for msg in batch):
            raise RuntimeError("boom")


def consumer_of(
    client: FakeClient,
    handler: Callable[[Sequence[FakeMsg]], Awaitable[None]],
    spec: PullConsumerSpec = SPEC,
    dead_letters: FakeDeadLetters | None = None,
) -> PullConsumer:
    return PullConsumer(
        lambda: client, spec, handler, "svc", dead_letters or FakeDeadLetters(),  # type: ignore[arg-type, return-value]
    )  # fmt: skip


async def started(
    client: FakeClient,
    handler: Recorder,
    spec: PullConsumerSpec = SPEC,
    dead_letters: FakeDeadLetters | None = None,
) -> PullConsumer:
    consumer = consumer_of(client, handler, spec, dead_letters)
    await consumer.start()
    await asyncio.sleep(0.01)
    return consumer


async def test_messages_that_arrived_together_reach_the_handler_as_one_batch() -> None:
    client, handler = FakeClient(), Recorder()
    consumer = await started(client, handler)

    await client.deliver(FakeMsg(b"1"), FakeMsg(b"2"))
    await client.deliver(FakeMsg(b"3"))
    await consumer.stop()

    assert handler.batches == [[b"1", b"2"], [b"3"]]


async def test_a_lingering_consumer_gathers_what_arrives_within_its_linger_into_one_batch() -> None:
    client, handler = FakeClient(), Recorder()
    consumer = await started(client, handler, dataclasses.replace(SPEC, linger_seconds=0.2))

    await client.deliver(FakeMsg(b"1"))
    await client.deliver(FakeMsg(b"2"))
    await asyncio.sleep(0.3)
    await consumer.stop()

    assert handler.batches == [[b"1", b"2"]]


async def test_a_lingering_consumer_with_a_backlog_on_the_server_handles_its_batch_at_once() -> (
    None
):
    client, handler = FakeClient(), Recorder()
    consumer = await started(client, handler, dataclasses.replace(SPEC, linger_seconds=30.0))

    await client.deliver(FakeMsg(b"1", pending=500))
    await asyncio.sleep(0.2)
    handled_before_the_linger_ended = list(handler.batches)
    await consumer.stop()

    assert handled_before_the_linger_ended == [[b"1"]]


async def test_a_stop_during_the_linger_handles_the_batch_in_hand() -> None:
    client, handler = FakeClient(), Recorder()
    consumer = await started(client, handler, dataclasses.replace(SPEC, linger_seconds=0.2))

    await client.deliver(FakeMsg(b"1"))
    await consumer.stop()

    assert handler.batches == [[b"1"]]


async def test_the_first_pull_asks_the_durable_for_a_whole_batch_on_the_inbox() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder())
    await consumer.stop()

    assert client.pulls == [
        ("$JS.API.CONSUMER.MSG.NEXT.MD.test", {"batch": 4, "expires": 1_000_000_000}, "_INBOX.test")
    ]


async def test_requests_are_topped_up_once_half_the_batch_has_arrived() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder())

    await client.deliver(FakeMsg(b"1"))
    await client.deliver(FakeMsg(b"2"))
    await consumer.stop()

    assert client.batches_asked() == [4, 2]


async def test_an_expired_request_is_renewed_for_what_it_still_owed() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder())

    await client.deliver(FakeMsg(b"1"), status("408", pending=3))
    await consumer.stop()

    assert client.batches_asked() == [4, 4]


async def test_a_request_that_ended_without_a_count_is_renewed_at_once() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder())

    await client.deliver(status("408"))
    await consumer.stop()

    assert client.batches_asked() == [4, 4]


async def test_status_messages_never_reach_the_handler() -> None:
    client, handler = FakeClient(), Recorder()
    consumer = await started(client, handler)

    await client.deliver(status("100"), FakeMsg(b"1"), status("408", pending=3))
    await consumer.stop()

    assert handler.batches == [[b"1"]]


async def test_silence_longer_than_a_request_lives_asks_afresh() -> None:
    client = FakeClient()
    spec = PullConsumerSpec(stream="MD", subject="md.>", durable="test", batch_size=4,
                            idle_poll_seconds=0.05)  # fmt: skip
    consumer = await started(client, Recorder(), spec)

    await asyncio.sleep(1.2)
    await consumer.stop()

    assert client.batches_asked() == [4, 4]


async def test_a_refused_request_is_asked_again_after_the_retry_delay() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder())

    await client.deliver(status("409"))
    asked_at_once = list(client.batches_asked())
    await asyncio.sleep(0.6)
    await consumer.stop()

    assert (asked_at_once, client.batches_asked()) == ([4], [4, 4])


@pytest.mark.parametrize(("delivered", "delay"), [(1, 1.0), (2, 5.0), (7, 30.0)])
async def test_a_message_that_fails_is_nakd_with_the_delay_its_delivery_count_picks(
    delivered: int, delay: float
) -> None:
    client = FakeClient()
    consumer = await started(client, Recorder(fail_on=b"bad"))
    bad = FakeMsg(b"bad", delivered=delivered)

    await client.deliver(bad)
    await consumer.stop()

    assert bad.naks == [delay]


async def test_a_failed_batch_is_handled_again_one_message_at_a_time() -> None:
    client, handler = FakeClient(), Recorder(fail_on=b"bad")
    consumer = await started(client, handler)

    await client.deliver(FakeMsg(b"1", seq=1), FakeMsg(b"bad", seq=2), FakeMsg(b"3", seq=3))
    await consumer.stop()

    assert handler.batches == [[b"1", b"bad", b"3"], [b"1"], [b"bad"], [b"3"]]


async def test_only_the_message_that_fails_alone_is_nakd() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder(fail_on=b"bad"))
    batch = [FakeMsg(b"1", seq=1), FakeMsg(b"bad", seq=2), FakeMsg(b"3", seq=3)]

    await client.deliver(*batch)
    await consumer.stop()

    assert [msg.naks for msg in batch] == [[], [1.0], []]


async def test_a_message_past_max_deliver_is_parked_with_the_handlers_last_error() -> None:
    client, dead_letters = FakeClient(), FakeDeadLetters()
    consumer = await started(client, Recorder(fail_on=b"bad"), dead_letters=dead_letters)
    client.js.stored[7] = stored = SimpleNamespace(seq=7)

    await client.deliver(FakeMsg(b"bad", seq=7, delivered=10))
    await client.advise(
        "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.MD.test", {"stream_seq": 7, "deliveries": 10}
    )
    await consumer.stop()

    assert dead_letters.parked == [
        (stored, "MD", "delivered 10 times without an ack: handler failed: RuntimeError('boom')")
    ]


async def test_a_message_past_max_deliver_that_never_raised_is_parked_saying_so() -> None:
    client, dead_letters = FakeClient(), FakeDeadLetters()
    consumer = await started(client, Recorder(), dead_letters=dead_letters)
    client.js.stored[7] = SimpleNamespace(seq=7)

    await client.advise(
        "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.MD.test", {"stream_seq": 7, "deliveries": 3}
    )
    await consumer.stop()

    assert [reason for _, _, reason in dead_letters.parked] == [
        "delivered 3 times without an ack: no handler error seen "
        "(nak'd by the handler, or not acked within ack_wait)"
    ]


async def test_the_replicas_of_a_durable_hear_its_advisories_as_one_queue_group() -> None:
    """So that, of the processes sharing a durable, one parks each message it gave up on."""
    client = FakeClient()
    consumer = await started(client, Recorder())
    await consumer.stop()

    assert client.advisory_queues == {"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.MD.test": "test"}


async def test_the_consumer_keeps_going_after_a_failed_batch() -> None:
    client, handler = FakeClient(), Recorder(fail_on=b"bad")
    consumer = await started(client, handler)

    await client.deliver(FakeMsg(b"bad"))
    await client.deliver(FakeMsg(b"good"))
    await consumer.stop()

    assert handler.batches == [[b"bad"], [b"good"]]


async def test_messages_delivered_but_not_yet_handled_are_handed_back_at_stop() -> None:
    client = FakeClient()
    spec = PullConsumerSpec(stream="MD", subject="md.>", durable="test", batch_size=1)
    release = asyncio.Event()

    async def slow(batch: Sequence[FakeMsg]) -> None:
        await release.wait()

    consumer = consumer_of(client, slow, spec)
    await consumer.start()
    queued = FakeMsg(b"2")
    await client.deliver(FakeMsg(b"1"), queued)
    stopping = asyncio.create_task(consumer.stop())
    release.set()
    await stopping

    assert queued.naks == [0.0]


async def test_stopping_drains_the_subscription() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder())
    await consumer.stop()

    assert client.subscription.drained


async def test_a_message_still_in_flight_at_stop_is_handed_back() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder())
    in_flight = FakeMsg(b"late")
    client.subscription.in_flight.append(in_flight)

    await consumer.stop()

    assert in_flight.naks == [0.0]


async def test_after_a_reconnect_a_whole_batch_is_asked_for_afresh() -> None:
    client = FakeClient()
    consumer = await started(client, Recorder())

    await client.deliver(FakeMsg(b"1"))
    client.stats["reconnects"] += 1
    await client.deliver(FakeMsg(b"2"))
    await consumer.stop()

    assert client.batches_asked() == [4, 4]


async def test_nothing_is_asked_for_while_disconnected() -> None:
    client = FakeClient()
    client.is_connected = False
    spec = PullConsumerSpec(stream="MD", subject="md.>", durable="test", batch_size=4,
                            retry_delay_seconds=0.01)  # fmt: skip
    consumer = await started(client, Recorder(), spec)

    await asyncio.sleep(0.1)
    asked_while_down = list(client.batches_asked())
    client.is_connected = True
    await asyncio.sleep(0.05)
    await consumer.stop()

    assert (asked_while_down, client.batches_asked()) == ([], [4])


async def test_starting_a_consumer_neither_creates_nor_updates_its_durable() -> None:
    client = FakeClient(existing=None)
    consumer = await started(client, Recorder())
    await consumer.stop()

    assert client.js.added == []
