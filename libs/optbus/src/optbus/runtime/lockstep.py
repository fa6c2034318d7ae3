"""Lockstep on a real bus: know when everything one published event caused has been handled.

A replay publishes one market event, then waits until every consumer of the services has
acked every message that event caused, directly or through other services, before it
publishes the next. That is what makes a bus replay give the trades of the in-process
backtest, which delivers each market event's whole cascade before the next.

How it knows, without polling: it watches the bus. Every message on a stream subject owes
one ack to each consumer whose filter matches it; every ``$JS.ACK`` of such a consumer pays
one back. A service publishes what a message caused before it acks that message (the
Dispatcher's contract), and the server forwards one connection's messages in order, so the
cause's ack never arrives before its effects; the count is trusted only when no watched
subscription holds a message not yet counted, and once the published message itself has
come back (so the publisher need not wait for JetStream's acknowledgement).

A stream only the watcher's owner publishes on (the replay's market data) need not be watched:
the owner counts what each of its messages owes with ``sent`` before publishing it, so the
count can never run ahead of the acks, and the bus does not copy every chain back to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from optbus.runtime.topology import ServiceTopology
from optbus.subjects import STREAMS, stream_of, subject_matches

_ACK_PREFIX = "$JS.ACK."
_SETTLING_ACKS = (b"", b"+ACK", b"+TERM", b"+NXT")


class ReplayStalled(RuntimeError):
    """The services did not finish handling an event in time: one of them is stuck or down."""


@dataclass(frozen=True, slots=True)
class WatchedConsumer:
    """A durable consumer whose acks the lockstep waits for."""

    stream: str
    name: str
    filter_subject: str


def declared_consumers(topologies: Iterable[ServiceTopology[Any]]) -> list[WatchedConsumer]:
    """Every durable consumer the services of ``topologies`` declare: the acks they owe are
    what the lockstep waits for."""
    return [
        WatchedConsumer(consumer.stream, consumer.durable, consumer.subject)
        for topology in topologies
        for consumer in topology.consumers
    ]


class Lockstep:
    """Counts the acks the watched consumers still owe; ``settled`` waits for none."""

    def __init__(self, consumers: Iterable[WatchedConsumer]) -> None:
        self._consumers = list(consumers)
        self._names = {(c.stream, c.name) for c in self._consumers}
        self._owed_by_subject: dict[str, int] = {}
        self._subscriptions: list[Subscription] = []
        self._owed = 0
        self._owed_limit = 0
        self._awaited_id: str | None = None
        self._settled = asyncio.Event()

    async def watch(self, nc: Client, *, own_streams: Iterable[str] = ()) -> None:
        """Subscribe to the acks and to every stream subject but those of ``own_streams``:
        only the caller publishes on those, counting each message with ``sent``."""
        own = set(own_streams)
        patterns = [p for spec in STREAMS if spec.name not in own for p in spec.subjects]
        for pattern in [*patterns, f"{_ACK_PREFIX}>"]:
            self._subscriptions.append(await nc.subscribe(pattern, cb=self._on_message))
        await nc.flush()

    async def stop(self) -> None:
        """Drop the subscriptions."""
        for subscription in self._subscriptions:
            await subscription.unsubscribe()

    def expect(self, msg_id: str) -> None:
        """Call before publishing the message ``msg_id`` (its ``Nats-Msg-Id``): the next
        ``settled`` waits until it is seen and everything it causes is handled."""
        self._awaited_id = msg_id
        self._settled.clear()

    def sent(self, subject: str) -> None:
        """Call before publishing a message on ``subject`` (a stream of ``own_streams``): the
        next ``settled`` waits until every watched consumer it reaches has acked it."""
        self._owed += self.owed_for(subject)
        self._settled.clear()

    async def settled(self, patience_seconds: float, *, owed_at_most: int = 0) -> None:
        """Wait until no ack is owed and nothing watched is still unread.

        With ``owed_at_most``, until no more than that many acks are owed: the services may
        then be that far behind (a bounded lag) instead of done with everything."""
        self._owed_limit = owed_at_most
        self._settled.clear()
        self._check()
        try:
            await asyncio.wait_for(self._settled.wait(), patience_seconds)
        except TimeoutError:
            raise ReplayStalled(
                f"{self._owed} acks still owed after {patience_seconds:.0f} s: "
                "a service is stuck or down"
            ) from None

    def owed_for(self, subject: str) -> int:
        """How many acks a message on ``subject`` owes: one per watched consumer it reaches."""
        owed = self._owed_by_subject.get(subject)
        if owed is None:
            stream = stream_of(subject).name
            owed = sum(
                1
                for c in self._consumers
                if c.stream == stream and subject_matches(c.filter_subject, subject)
            )
            self._owed_by_subject[subject] = owed
        return owed

    async def _on_message(self, msg: Msg) -> None:
        if msg.subject.startswith(_ACK_PREFIX):
            stream, consumer = msg.subject.split(".", 4)[2:4]
            if (stream, consumer) in self._names and msg.data in _SETTLING_ACKS:
                self._owed -= 1
        else:
            self._owed += self.owed_for(msg.subject)
            if msg.header is not None and msg.header.get("Nats-Msg-Id") == self._awaited_id:
                self._awaited_id = None
        self._check()

    def _check(self) -> None:
        if (
            self._awaited_id is None
            and self._owed <= self._owed_limit
            and all(s.pending_msgs == 0 for s in self._subscriptions)
        ):
            self._settled.set()
