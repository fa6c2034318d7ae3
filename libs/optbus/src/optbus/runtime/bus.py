"""The JetStream side of a service: publishing events, and parking bad messages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import structlog
from nats import errors as nats_errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NoStreamResponseError, ServiceUnavailableError

from optbus import subjects
from optbus.clock import Clock
from optbus.codec import dead_letter, encode
from optbus.events import Event
from optbus.ids import derived_event_id
from optbus.runtime.metrics import (
    DEAD_LETTERS,
    EVENTS_PUBLISHED,
    KILLSWITCH_INVALID_COMMANDS,
    PUBLISH_PENDING,
    PUBLISH_RETRIED,
)

_log = structlog.get_logger()


NOT_CONFIRMED = (
    nats_errors.TimeoutError,
    nats_errors.OutboundBufferLimitError,
    nats_errors.ConnectionReconnectingError,
    nats_errors.StaleConnectionError,
    NoStreamResponseError,
    ServiceUnavailableError,
)
"""What a publish fails with while NATS or JetStream is away (the server restarting, the
connection being restored, the stream's leader being elected): worth publishing again."""

RETRY_FIRST_SECONDS = 0.25
RETRY_MAX_SECONDS = 5.0


class EventPublisher:
    """Publishes events to JetStream, each with its ``event_id`` as ``Nats-Msg-Id`` for dedupe.

    An event JetStream does not confirm (``NOT_CONFIRMED``) is published again, the same bytes
    under the same id, so that JetStream stores it once however often it came, after a delay
    that doubles up to ``RETRY_MAX_SECONDS``, until it is confirmed or ``patience_seconds``
    have passed: an outage of NATS of minutes delays a publisher and loses nothing. At most
    ``max_pending`` events wait for their confirmation at once; a caller publishing more waits
    for room, so memory is bounded and nothing is dropped. Both are metered
    (``optbus_publish_pending``, ``optbus_publish_retried_total``).

    ``js`` is asked for the JetStream context at each attempt, so a publisher can be wired
    before the connection exists (FastStream connects when the app starts).
    """

    def __init__(
        self,
        js: Callable[[], JetStreamContext],
        service: str,
        *,
        timeout: float = 10.0,
        patience_seconds: float = 600.0,
        max_pending: int = 10_000,
    ) -> None:
        self._js = js
        self._service = service
        self._timeout = timeout
        self._patience_seconds = patience_seconds
        self._room = asyncio.Semaphore(max_pending)
        self._pending = PUBLISH_PENDING.labels(service)
        self._retried = PUBLISH_RETRIED.labels(service)

    async def publish(self, subject: str, event: Event) -> None:
        """Publish one event and wait until JetStream has stored it."""
        data = encode(event)
        async with self._room:
            self._pending.inc()
            try:
                await self._until_confirmed(subject, data, event.event_id)
            finally:
                self._pending.dec()
        EVENTS_PUBLISHED.labels(self._service, type(event).__name__).inc()

    async def publish_all(self, batch: Iterable[tuple[str, Event]]) -> None:
        """Publish several events with their acks in flight together, in order on the wire
        (an event published again after an outage may land after those that followed it)."""
        await asyncio.gather(*(self.publish(subject, event) for subject, event in batch))

    async def _until_confirmed(self, subject: str, data: bytes, event_id: str) -> None:
        """Publish until JetStream confirms; the last failure once patience runs out."""
        give_up_at = time.monotonic() + self._patience_seconds
        delay = RETRY_FIRST_SECONDS
        retried = False
        while True:
            try:
                await self._js().publish(
                    subject, data, timeout=self._timeout, headers={"Nats-Msg-Id": event_id}
                )
                return
            except NOT_CONFIRMED as exc:
                if time.monotonic() + delay > give_up_at:
                    raise
                if not retried:
                    retried = True
                    self._retried.inc()
                    _log.warning("JetStream did not confirm an event; publishing it again",
                                 subject=subject, event_id=event_id, error=repr(exc))  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(2 * delay, RETRY_MAX_SECONDS)


class DeadLetterOffice:
    """Parks a message that cannot be handled on ``dlq.<subject>`` and terminates it.

    Termination (not a nak) is deliberate: a message that fails to decode would fail forever,
    and redelivering it would block everything behind it.
    """

    def __init__(self, publisher: EventPublisher, service: str, consumer: str, clock: Clock):
        self._publisher = publisher
        self._service = service
        self._consumer = consumer
        self._clock = clock

    async def park(self, msg: Msg, reason: str) -> None:
        """Publish the message with ``reason`` to the dead-letter stream, then terminate it."""
        meta = msg.metadata
        await self._post(
            msg.subject, meta.stream, meta.sequence.stream, delivered_ns(msg), msg.data, reason
        )
        await msg.term()

    async def park_stored(self, stored: RawStreamMsg, stream: str, reason: str) -> None:
        """Publish a message read from ``stream`` by its sequence with ``reason`` to the
        dead-letter stream.

        For a message JetStream stopped delivering (MaxDeliver reached): it is no longer
        pending on the consumer, so there is nothing to terminate.
        """
        if stored.subject is None or stored.seq is None or stored.time is None:
            raise ValueError(f"{stream}: a stored message without subject, sequence or time")
        stored_ns = int(stored.time.timestamp() * 1_000_000_000)
        await self._post(stored.subject, stream, stored.seq, stored_ns, stored.data or b"", reason)

    async def _post(
        self, subject: str, stream: str, stream_seq: int, stored_ns: int, data: bytes, reason: str
    ) -> None:
        letter = dead_letter(
            event_id=derived_event_id("dlq", stream, stream_seq, self._consumer),
            ts_event=stored_ns,
            ts_init=self._clock.now_ns(),
            original_subject=subject,
            stream=stream,
            stream_seq=stream_seq,
            consumer=self._consumer,
            reason=reason,
            data=data,
        )
        await self._publisher.publish(subjects.dead_letter(subject), letter)
        DEAD_LETTERS.labels(self._service, self._consumer).inc()
        _log.error(
            "message dead-lettered",
            subject=subject,
            stream=stream,
            stream_seq=stream_seq,
            consumer=self._consumer,
            reason=letter.reason,
        )


def delivered_ns(msg: Msg) -> int:
    """When JetStream stored a message, in epoch nanoseconds."""
    return int(msg.metadata.timestamp.timestamp() * 1_000_000_000)


class KillSwitchDeadLetterOffice(DeadLetterOffice):
    """Parks a kill-switch command that does not parse, loudly: it never releases the switch."""

    async def park(self, msg: Msg, reason: str) -> None:
        """Park the command, count it for the alert, and log at critical level."""
        await super().park(msg, reason)
        KILLSWITCH_INVALID_COMMANDS.labels(self._service).inc()
        _log.critical("INVALID KILL-SWITCH COMMAND ignored", reason=reason, payload=msg.data[:200])

    async def park_stored(self, stored: RawStreamMsg, stream: str, reason: str) -> None:
        """Park a command that could not be applied however often it came (its state could
        not be stored, say), at critical level: the switch did not change."""
        await super().park_stored(stored, stream, reason)
        _log.critical("KILL-SWITCH COMMAND NOT APPLIED: parked", stream=stream, reason=reason)
