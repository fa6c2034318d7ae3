"""Durable JetStream pull consumers that hand whole batches to a handler.

Why not FastStream's batch subscriber: it keeps fetching until the batch is full or its
timeout runs out, which adds that timeout to every message's latency when traffic is light.
Here one ``fetch`` returns as soon as at least one message is there, so a batch is whatever
arrived meanwhile: large under load (cheap COPYs), a single message when quiet (low latency).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from optbus.runtime.metrics import HANDLER_SECONDS, MESSAGES_HANDLED

_log = structlog.get_logger()

BatchHandler = Callable[[Sequence[Msg]], Awaitable[object]]


@dataclass(frozen=True)
class PullConsumerSpec:
    """One durable consumer: which stream and subjects, how big a batch, how long to ack."""

    stream: str
    subject: str
    durable: str
    batch_size: int = 100
    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 1000
    idle_poll_seconds: float = 1.0
    retry_delay_seconds: float = 1.0
    from_start: bool = True

    def config(self) -> ConsumerConfig:
        """The JetStream consumer configuration (explicit acks).

        A new durable starts at the beginning of the stream when ``from_start`` (persistence
        must see everything), else at the next new message (a trading service restores its
        state from the log and must not trade on old prices).
        """
        return ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL if self.from_start else DeliverPolicy.NEW,
            ack_wait=self.ack_wait_seconds,
            max_ack_pending=self.max_ack_pending,
        )


class PullConsumer:
    """Runs one durable consumer: fetch a batch, handle it, repeat, until stopped.

    A handler that raises has its batch nak'd with a delay (logged loudly); the loop goes on.
    Stopping lets the batch in hand finish first, so nothing in flight is abandoned.
    """

    def __init__(
        self,
        js: Callable[[], JetStreamContext],
        spec: PullConsumerSpec,
        handler: BatchHandler,
        service: str,
    ) -> None:
        self._js = js
        self.spec = spec
        self._handler = handler
        self._service = service
        self._task: asyncio.Task[None] | None = None
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Create or bind the durable consumer and start consuming in the background."""
        spec = self.spec
        subscription = await self._js().pull_subscribe(
            spec.subject, durable=spec.durable, stream=spec.stream, config=spec.config()
        )
        self._subscription = subscription
        self._task = asyncio.create_task(self._consume(subscription), name=spec.durable)

    async def stop(self) -> None:
        """Finish the batch in hand, then stop and drop the subscription (the durable stays)."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscription is not None:
            # Unsubscribing first keeps the connection's drain from waiting on this inbox.
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()

    async def _consume(self, subscription: JetStreamContext.PullSubscription) -> None:
        spec = self.spec
        while not self._stopping.is_set():
            try:
                batch = await subscription.fetch(spec.batch_size, timeout=spec.idle_poll_seconds)
            except (NatsTimeoutError, TimeoutError):
                continue
            except Exception as exc:
                _log.warning("fetch failed; retrying", consumer=spec.durable, error=repr(exc))
                await asyncio.sleep(spec.retry_delay_seconds)
                continue
            await self._handle(batch)

    async def _handle(self, batch: Sequence[Msg]) -> None:
        spec = self.spec
        with HANDLER_SECONDS.labels(self._service, spec.durable).time():
            try:
                await self._handler(batch)
            except Exception:
                _log.exception("handler failed; batch will be redelivered", consumer=spec.durable)
                MESSAGES_HANDLED.labels(self._service, spec.durable, "failed").inc(len(batch))
                await _nak_all(batch, spec.retry_delay_seconds)


async def _nak_all(batch: Sequence[Msg], delay: float) -> None:
    for msg in batch:
        with contextlib.suppress(Exception):
            await msg.nak(delay=delay)
