"""Durable JetStream pull consumers that hand whole batches to a handler.

Why not ``PullSubscription.fetch`` in a loop: nats-py's ``fetch`` sends a pull request per
call and waits for the server's end-of-request status, so every batch costs a request, a
status message and a timer on top of the messages (measured: 450 µs of client CPU per
message in a one-message-at-a-time flow, against 200 µs here). Like the Go client's
``Consume``, this keeps pull requests outstanding and tops them up as messages arrive, so the
server pushes each message the moment it is stored; a batch is whatever arrived meanwhile:
large under load (cheap COPYs), a single message when quiet (low latency).

Why not FastStream's batch subscriber: it keeps fetching until the batch is full or its
timeout runs out, which adds that timeout to every message's latency when traffic is light.

Why the retry delays are the client's and not JetStream's ``backoff`` list: nats-server applies
``backoff`` only to redeliveries after an ack timeout, makes its first entry the ``ack_wait``
(a 1 s first retry would redeliver every batch a handler takes longer than 1 s over), and adds
``backoff[n] - backoff[0]`` to every nak's own delay (server/consumer.go, ``processNak`` and
``checkPending``). So the consumer keeps the declared ``ack_wait``, a failed message is nak'd
with the delay its delivery count picks from ``backoff_seconds``, and ``max_deliver`` bounds the
count: at the limit JetStream stops delivering it and publishes a MAX_DELIVERIES advisory, on
which the message is read back by its sequence and parked on the DLQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DEFAULT_PREFIX, AckPolicy, ConsumerConfig, DeliverPolicy, Header, StatusCode

from optbus.runtime.bus import DeadLetterOffice
from optbus.runtime.metrics import HANDLER_SECONDS, MESSAGES_HANDLED
from optbus.runtime.topology import UNLIMITED, BatchConsumer, Consumer, ServiceTopology

_log = structlog.get_logger()

BatchHandler = Callable[[Sequence[Msg]], Awaitable[object]]

_PENDING_MESSAGES = "Nats-Pending-Messages"
_REQUEST_ENDED = frozenset({StatusCode.NO_MESSAGES, StatusCode.REQUEST_TIMEOUT})
_DRAIN_SECONDS = 5.0

DEFAULT_BACKOFF_SECONDS = (1.0, 5.0, 30.0, 120.0)
"""Delays before the 2nd, 3rd, 4th and every later delivery of a message that failed: a blip
(a publish timed out during a leader election) is retried within a second, a longer fault is
not hammered."""
_DECLARED = ("filter_subject", "ack_wait", "max_deliver", "max_ack_pending", "backoff")
"""What of an existing durable ``optbus bus migrate`` brings to the declaration and a service
checks at start (what JetStream lets an update change: where a durable starts cannot, and no
longer matters once it exists)."""
_MAX_DELIVERIES = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
_NO_ERROR_SEEN = "no handler error seen (nak'd by the handler, or not acked within ack_wait)"


@dataclass(frozen=True)
class PullConsumerSpec:
    """One durable consumer: which stream and subjects, how big a batch, how long to ack, how
    often a message is delivered (``max_deliver``, or ``UNLIMITED``) and how long a failed one
    waits before its next delivery (``backoff_seconds``, by its delivery count).

    ``linger_seconds``: how long a batch that is not full waits, after its first message, for
    more. 0 (the trading path) handles every message the moment it comes; a consumer nobody
    waits for (persistence) lingers, so that its work on a burst of chains comes after the
    trading services' work on the same burst instead of competing with it for the CPUs, and
    in fewer, larger batches.
    """

    stream: str
    subject: str
    durable: str
    batch_size: int = 100
    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 1000
    idle_poll_seconds: float = 1.0
    retry_delay_seconds: float = 1.0
    from_start: bool = True
    max_deliver: int = 10
    backoff_seconds: tuple[float, ...] = DEFAULT_BACKOFF_SECONDS
    linger_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.max_deliver != UNLIMITED and self.max_deliver < 1:
            raise ValueError(f"{self.durable}: max_deliver must be at least 1, or UNLIMITED")
        if not self.backoff_seconds or min(self.backoff_seconds) < 0:
            raise ValueError(f"{self.durable}: backoff_seconds must be delays of 0 s or more")
        if self.linger_seconds < 0:
            raise ValueError(f"{self.durable}: linger_seconds must be 0 s or more")
        if self.batch_size > self.max_ack_pending:
            # JetStream refuses a pull request for more than max_ack_pending messages.
            raise ValueError(
                f"{self.durable}: batch_size {self.batch_size} exceeds the durable's "
                f"max_ack_pending {self.max_ack_pending}"
            )

    @classmethod
    def declared(cls, topology: ServiceTopology[Any], consumer: Consumer[Any]) -> PullConsumerSpec:
        """``consumer`` of ``topology`` as declared: its stream, filter and durable, where it
        starts and how JetStream delivers to it (``topology.delivery``). What ``optbus bus
        migrate`` creates and the service checks, both from this one spec's ``config``; how the
        service pulls (batch size, retries, linger) is its own, to ``dataclasses.replace``."""
        delivery = topology.delivery
        max_deliver = delivery.max_deliver
        if isinstance(consumer, BatchConsumer) and consumer.max_deliver is not None:
            max_deliver = consumer.max_deliver  # its own limit (risk's kill-switch commands)
        return cls(
            stream=consumer.stream, subject=consumer.subject, durable=consumer.durable,
            # The service pulls with its own batch size unless the consumer declares one.
            batch_size=min(consumer.batch_size or cls.batch_size, delivery.max_ack_pending),
            ack_wait_seconds=delivery.ack_wait_seconds,
            max_ack_pending=delivery.max_ack_pending,
            from_start=topology.start_at == "first", max_deliver=max_deliver,
        )  # fmt: skip

    def config(self) -> ConsumerConfig:
        """The JetStream consumer configuration (explicit acks).

        A new durable starts at the beginning of the stream when ``from_start`` (persistence
        must see everything), else at the next new message (a trading service restores its
        state from the log and must not trade on old prices). No ``backoff``: see the module's
        docstring.
        """
        return ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL if self.from_start else DeliverPolicy.NEW,
            ack_wait=self.ack_wait_seconds,
            max_ack_pending=self.max_ack_pending,
            max_deliver=self.max_deliver,
        )

    def drift(self, existing: ConsumerConfig) -> dict[str, str]:
        """What of ``existing`` differs from this declaration, as ``"had -> declared"``."""
        wanted = self.config()
        return {
            name: f"{getattr(existing, name)} -> {getattr(wanted, name)}"
            for name in _DECLARED
            if getattr(existing, name) != getattr(wanted, name)
        }

    def drift_problems(self, existing: ConsumerConfig) -> list[str]:
        """Each setting of ``existing`` that is not the declared one, as ``consumer D on
        stream S: setting is X, declared Y``; empty when the durable is as declared."""
        wanted = self.config()
        return [
            f"consumer {self.durable} on stream {self.stream}: {name} is {had!r}, "
            f"declared {declared!r}"
            for name in _DECLARED
            if (had := getattr(existing, name)) != (declared := getattr(wanted, name))
        ]

    def redelivery_delay(self, deliveries: int) -> float:
        """How long a message that failed on its ``deliveries``-th delivery waits for the next:
        that entry of ``backoff_seconds``, the last one beyond them."""
        return self.backoff_seconds[min(max(deliveries, 1), len(self.backoff_seconds)) - 1]


class PullConsumer:
    """Runs one durable consumer: receive a batch, handle it, repeat, until stopped.

    Pull requests for up to ``batch_size`` messages stay outstanding, each expiring after
    ``idle_poll_seconds`` and renewed; if nothing at all comes back for longer (the server
    restarted and forgot them), or the client reconnected, they are asked for afresh, and
    none are asked for while disconnected. When a handler raises, the batch's messages are
    handled one at a time, and one that still fails is nak'd with the delay its delivery count
    picks (logged loudly); the loop goes on. A message JetStream gave up on after
    ``max_deliver`` deliveries is parked by ``dead_letters``, with the handler's last error on
    it. Stopping lets the batch in hand finish first, and naks what was delivered but not yet
    handled, so nothing in flight is abandoned.

    Several processes may run the same durable (replicas of a service): JetStream hands each
    message to one of them, and one of them parks it. That one need not be the one that saw its
    last failure, so the dead letter's reason may then say no handler error was seen.
    """

    def __init__(
        self,
        connection: Callable[[], Client],
        spec: PullConsumerSpec,
        handler: BatchHandler,
        service: str,
        dead_letters: DeadLetterOffice,
    ) -> None:
        self._connection = connection
        self.spec = spec
        self._handler = handler
        self._service = service
        self._dead_letters = dead_letters
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._advisories: Subscription | None = None
        self._failures: dict[int, str] = {}
        self._arrived: asyncio.Queue[Msg] = asyncio.Queue()
        self._requested = 0
        self._handling = False
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Listen for the messages the durable gives up on, and start consuming in the
        background. The durable is ``optbus bus migrate``'s to create; the service checked it
        before (``optbus.runtime.migration.check_consumers``)."""
        spec = self.spec
        nc = self._connection()
        # In the durable's queue group: of the replicas sharing the durable, one parks each
        # message JetStream gave up on (each would otherwise post, count and log it).
        self._advisories = await nc.subscribe(
            f"{_MAX_DELIVERIES}.{spec.stream}.{spec.durable}",
            queue=spec.durable,
            cb=self._on_max_deliveries,
        )
        inbox = nc.new_inbox()
        self._subscription = await nc.subscribe(inbox, cb=self._on_delivery)
        self._task = asyncio.create_task(self._consume(nc, inbox), name=spec.durable)

    async def stop(self) -> None:
        """Finish the batch in hand, hand back what is queued, and drop the subscriptions
        (the durable stays)."""
        self._stopping.set()
        if self._advisories is not None:
            with contextlib.suppress(Exception):
                await self._advisories.unsubscribe()
        if self._task is not None:
            if not self._handling:
                # Waiting for a delivery or asking for one: nothing in hand to finish.
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscription is not None:
            # Draining (not just unsubscribing) lets what the server sent before it saw the
            # unsubscribe reach the queue, to be handed back below instead of waiting out
            # ack_wait; done before the connection's own drain, which would wait on it.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_DRAIN_SECONDS):
                    await self._subscription.drain()  # type: ignore[no-untyped-call]
        await _hand_back(_drain(self._arrived))

    async def _on_delivery(self, msg: Msg) -> None:
        self._arrived.put_nowait(msg)

    async def _on_max_deliveries(self, advisory: Msg) -> None:
        """Park the message an advisory says JetStream stopped delivering, read by sequence."""
        spec = self.spec
        try:
            notice = json.loads(advisory.data)
            seq, deliveries = int(notice["stream_seq"]), int(notice["deliveries"])
            stored = await self._connection().jetstream().get_msg(spec.stream, seq)
            failure = self._failures.pop(seq, _NO_ERROR_SEEN)
            reason = f"delivered {deliveries} times without an ack: {failure}"
            await self._dead_letters.park_stored(stored, spec.stream, reason)
        except Exception:
            _log.exception(
                "could not park a message past max_deliver",
                consumer=spec.durable, advisory=advisory.data[:200],
            )  # fmt: skip

    async def _consume(self, nc: Client, inbox: str) -> None:
        spec = self.spec
        pull_subject = f"{DEFAULT_PREFIX}.CONSUMER.MSG.NEXT.{spec.stream}.{spec.durable}"
        # Silence for longer than a request lives means the server no longer holds it.
        patience = spec.idle_poll_seconds + max(1.0, spec.idle_poll_seconds)
        reconnects = nc.stats["reconnects"]
        while not self._stopping.is_set():
            if not nc.is_connected:
                # Requests published now would pile up in the client's buffer.
                await asyncio.sleep(spec.retry_delay_seconds)
                continue
            if nc.stats["reconnects"] != reconnects:
                # Messages lost with the old connection were counted as sent by the server,
                # and its requests may be gone: ask for a whole batch afresh.
                reconnects = nc.stats["reconnects"]
                self._requested = 0
            try:
                await self._top_up(nc, pull_subject, inbox)
            except Exception as exc:
                _log.warning(
                    "pull request failed; retrying", consumer=spec.durable, error=repr(exc)
                )
                await asyncio.sleep(spec.retry_delay_seconds)
                continue
            try:
                async with asyncio.timeout(patience):
                    first = await self._arrived.get()
            except TimeoutError:
                self._requested = 0
                continue
            await self._linger(first)
            batch, refusal = self._messages([first, *_drain(self._arrived, spec.batch_size - 1)])
            if batch:
                await self._handle(batch)
            if refusal is not None:
                _log.warning(
                    "pull request refused; retrying", consumer=spec.durable, status=refusal
                )
                await asyncio.sleep(spec.retry_delay_seconds)

    async def _linger(self, first: Msg) -> None:
        """Give a batch that is not full ``linger_seconds`` to fill, its first message in hand
        (a stop waits for it, as for a batch being handled); but only once the consumer has
        caught up. With a backlog on the server (``first``'s pending count) a batch is short
        only because of what was still asked for, and lingering would throttle the catch-up to
        a batch per linger: a burst of dead letters once outran the DLQ's storage that way."""
        spec = self.spec
        if spec.linger_seconds <= 0 or self._arrived.qsize() >= spec.batch_size - 1:
            return
        if _has_backlog(first):
            return
        self._handling = True
        try:
            await asyncio.sleep(spec.linger_seconds)
        finally:
            self._handling = False

    async def _top_up(self, nc: Client, pull_subject: str, inbox: str) -> None:
        """Keep requests for a whole batch outstanding, asking again once half arrived."""
        size = self.spec.batch_size
        if self._requested > size // 2:
            return
        wanted = size - self._requested
        request = {"batch": wanted, "expires": int(self.spec.idle_poll_seconds * 1e9)}
        await nc.publish(pull_subject, json.dumps(request).encode(), reply=inbox)
        self._requested += wanted

    def _messages(self, delivered: list[Msg]) -> tuple[list[Msg], str | None]:
        """The JetStream messages among ``delivered``, and the status of a refused request.

        Status messages settle the count of what is still requested: a request that ended
        (expired, or refused) says how many messages it will no longer bring.
        """
        messages = []
        refusal = None
        for msg in delivered:
            headers = msg.headers or {}
            status = headers.get(Header.STATUS)
            if status is None:
                self._requested -= 1
                messages.append(msg)
            elif status != StatusCode.CONTROL_MESSAGE:
                owed = headers.get(_PENDING_MESSAGES)
                self._requested -= int(owed) if owed is not None else self._requested
                if status not in _REQUEST_ENDED and owed is None:
                    refusal = f"{status} {headers.get(Header.DESCRIPTION, '')}".strip()
        self._requested = max(self._requested, 0)
        return messages, refusal

    async def _handle(self, batch: Sequence[Msg]) -> None:
        self._handling = True
        try:
            await self._handle_timed(batch)
        finally:
            self._handling = False

    async def _handle_timed(self, batch: Sequence[Msg]) -> None:
        """Handle ``batch``; when it fails, handle its messages one at a time, so that one
        message the handler cannot take is retried (and at last parked) alone while the others
        of its batch go through. The price: a fault that fails every message (the bus cannot
        store what a handler publishes) is met once per message, as often as the backoff
        allows."""
        spec = self.spec
        try:
            with HANDLER_SECONDS.labels(self._service, spec.durable).time():
                await self._handler(batch)
        except Exception as exc:
            if len(batch) > 1:
                _log.warning(
                    "batch failed; handling its messages one at a time",
                    consumer=spec.durable, error=repr(exc),
                )  # fmt: skip
                for msg in batch:
                    await self._handle_timed([msg])
                return
            _log.exception("handler failed; message will be redelivered", consumer=spec.durable)
            MESSAGES_HANDLED.labels(self._service, spec.durable, "failed").inc()
            await self._retry_later(batch, f"handler failed: {exc!r}")
        else:
            if self._failures:  # else spare every message its metadata parse
                for msg in batch:
                    self._failures.pop(msg.metadata.sequence.stream, None)

    async def _retry_later(self, batch: Sequence[Msg], failure: str) -> None:
        """Nak each message with the delay its delivery count picks, remembering ``failure``
        for the dead letter should it run out of deliveries."""
        for msg in batch:
            meta = msg.metadata
            self._failures[meta.sequence.stream] = failure
            with contextlib.suppress(Exception):
                await msg.nak(delay=self.spec.redelivery_delay(meta.num_delivered))


def _has_backlog(msg: Msg) -> bool:
    """Whether the server holds more messages for ``msg``'s consumer than it has delivered
    (a status message, with no metadata of its own, says nothing of it)."""
    if (msg.headers or {}).get(Header.STATUS) is not None:
        return False
    return bool(msg.metadata.num_pending)


def _drain(queue: asyncio.Queue[Msg], limit: int | None = None) -> list[Msg]:
    """What ``queue`` holds right now, up to ``limit`` messages, without waiting."""
    taken: list[Msg] = []
    while not queue.empty() and (limit is None or len(taken) < limit):
        taken.append(queue.get_nowait())
    return taken


async def _hand_back(messages: Sequence[Msg]) -> None:
    """Nak ``messages`` for immediate redelivery (to this consumer's next run, or another)."""
    for msg in messages:
        with contextlib.suppress(Exception):
            await msg.nak()
