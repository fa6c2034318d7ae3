"""The lockstep on a real nats-server: a message its owner counts with ``sent`` (on a stream the
lockstep does not watch) stays owed until the consumer it reaches has acked it."""

from __future__ import annotations

import pytest
from nats.aio.client import Client
from nats.js.client import JetStreamContext

from optbus.runtime.lockstep import Lockstep, ReplayStalled, WatchedConsumer

pytestmark = pytest.mark.integration

SUBJECT = "md.vix.INDIAVIX"
CONSUMER = WatchedConsumer("MD", "vix-reader", "md.vix.>")


async def _sent_and_published(own_nc: Client) -> tuple[Lockstep, JetStreamContext.PullSubscription]:
    """A lockstep that leaves the market data stream to its owner, and one vix tick the owner
    counted and published, waiting for the durable consumer behind ``reader``."""
    reader = await own_nc.jetstream().pull_subscribe(CONSUMER.filter_subject, CONSUMER.name, "MD")
    lockstep = Lockstep([CONSUMER])
    await lockstep.watch(own_nc, own_streams=("MD",))
    lockstep.sent(SUBJECT)
    await own_nc.publish(SUBJECT, b"{}", headers={"Nats-Msg-Id": "vix-1"})
    return lockstep, reader


async def test_a_sent_message_is_owed_while_its_consumer_has_not_acked_it(own_nc: Client) -> None:
    lockstep, reader = await _sent_and_published(own_nc)
    await reader.fetch(1)  # delivered, not acked
    with pytest.raises(ReplayStalled, match="1 acks still owed"):
        await lockstep.settled(patience_seconds=0.5)


async def test_the_lockstep_settles_once_the_consumer_acked_a_sent_message(own_nc: Client) -> None:
    lockstep, reader = await _sent_and_published(own_nc)
    for msg in await reader.fetch(1):
        await msg.ack()
    await lockstep.settled(patience_seconds=10)
    await lockstep.stop()
