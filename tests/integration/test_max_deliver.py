"""A message a handler can never take is delivered at most ``max_deliver`` times, then parked on
the DLQ by the MAX_DELIVERIES advisory, on a real nats-server."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from optbus.clock import LiveClock
from optbus.codec import Decoder
from optbus.events import DeadLetter
from optbus.runtime.bus import DeadLetterOffice, EventPublisher
from optbus.runtime.consumer import PullConsumer, PullConsumerSpec
from optbus.runtime.migration import ensure_consumer

pytestmark = pytest.mark.integration

SPEC = PullConsumerSpec(
    stream="CONTROL", subject="control.eod", durable="poisoned", batch_size=10,
    idle_poll_seconds=0.5, max_deliver=3, backoff_seconds=(0.2,),
)  # fmt: skip


class RefusesPoison:
    """Acks a batch unless it holds the poison message; remembers what it acked."""

    def __init__(self) -> None:
        self.handled: list[bytes] = []

    async def __call__(self, batch: Sequence[Msg]) -> None:
        if any(msg.data == b"poison" for msg in batch):
            raise RuntimeError("cannot take it")
        for msg in batch:
            await msg.ack()
            self.handled.append(msg.data)


def consumer(own_nc: Client, handler: RefusesPoison, spec: PullConsumerSpec = SPEC) -> PullConsumer:
    publisher = EventPublisher(own_nc.jetstream, "test")
    office = DeadLetterOffice(publisher, "test", spec.durable, LiveClock())
    return PullConsumer(lambda: own_nc, spec, handler, "test", office)


async def parked_letter(own_nc: Client) -> DeadLetter:
    """The dead letter of ``control.eod``, once there is one (within 15 s)."""
    async with asyncio.timeout(15.0):
        while True:
            try:
                stored = await own_nc.jetstream().get_msg("DLQ", subject="dlq.control.eod")
            except NotFoundError:
                await asyncio.sleep(0.1)
                continue
            return Decoder(DeadLetter).decode(stored.data or b"")


@pytest.fixture
async def poisoned_run(own_nc: Client) -> tuple[RefusesPoison, DeadLetter]:
    """Two good messages around a poison one, through a consumer until the poison is parked."""
    handler = RefusesPoison()
    await ensure_consumer(own_nc.jetstream(), SPEC)
    running = consumer(own_nc, handler)
    await running.start()
    for data in (b"good-1", b"poison", b"good-2"):
        await own_nc.jetstream().publish("control.eod", data)
    letter = await parked_letter(own_nc)
    await running.stop()
    return handler, letter


async def test_a_message_its_handler_always_fails_on_is_parked_after_max_deliver_deliveries(
    poisoned_run: tuple[RefusesPoison, DeadLetter],
) -> None:
    _, letter = poisoned_run

    assert (letter.stream_seq, letter.consumer, letter.reason, letter.payload) == (
        2,
        "poisoned",
        "delivered 3 times without an ack: handler failed: RuntimeError('cannot take it')",
        "poison",
    )


async def test_the_good_messages_around_a_poison_message_are_handled(
    poisoned_run: tuple[RefusesPoison, DeadLetter],
) -> None:
    handler, _ = poisoned_run

    assert handler.handled == [b"good-1", b"good-2"]


async def test_a_parked_message_is_no_longer_pending_on_its_consumer(
    own_nc: Client, poisoned_run: tuple[RefusesPoison, DeadLetter]
) -> None:
    info = await own_nc.jetstream().consumer_info("CONTROL", "poisoned")

    assert (info.num_ack_pending, info.num_pending) == (0, 0)


async def test_an_existing_durable_without_max_deliver_is_updated_by_the_migration(
    own_nc: Client,
) -> None:
    js = own_nc.jetstream()
    await js.add_consumer(
        "CONTROL",
        ConsumerConfig(durable_name="poisoned", filter_subject="control.eod",
                       ack_policy=AckPolicy.EXPLICIT),
    )  # fmt: skip

    await ensure_consumer(js, SPEC)

    assert (await js.consumer_info("CONTROL", "poisoned")).config.max_deliver == 3


class CountsPoison(RefusesPoison):
    """Refuses the poison message; ``refused_twice`` is set on its second coming."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0
        self.refused_twice = asyncio.Event()

    async def __call__(self, batch: Sequence[Msg]) -> None:
        self.refused += any(msg.data == b"poison" for msg in batch)
        if self.refused >= 2:
            self.refused_twice.set()
        await super().__call__(batch)


async def test_a_message_out_of_deliveries_while_no_consumer_ran_is_parked_by_the_next_run(
    own_nc: Client,
) -> None:
    """JetStream publishes the MAX_DELIVERIES advisory (plain NATS, heard by nobody when nobody
    listens) only when a pull would have had the message again, and a consumer listens before
    it pulls: so the next run hears it, although no consumer ran when the last retry was due."""
    spec = PullConsumerSpec(
        stream="CONTROL", subject="control.eod", durable="poisoned", batch_size=10,
        idle_poll_seconds=0.5, max_deliver=2, backoff_seconds=(0.2, 3.0),
    )  # fmt: skip
    await ensure_consumer(own_nc.jetstream(), spec)
    first = CountsPoison()
    running = consumer(own_nc, first, spec)
    await running.start()
    await own_nc.jetstream().publish("control.eod", b"poison")
    await asyncio.wait_for(first.refused_twice.wait(), 10.0)
    await running.stop()  # its second failure nak'd with 3 s: due while nothing runs
    await asyncio.sleep(4.0)

    running = consumer(own_nc, CountsPoison(), spec)
    await running.start()
    letter = await parked_letter(own_nc)
    await running.stop()

    assert (letter.stream_seq, letter.payload) == (1, "poison")
    assert letter.reason.startswith("delivered 2 times without an ack")
