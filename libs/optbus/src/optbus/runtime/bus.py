"""The JetStream side of a service: publishing events, and parking bad messages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg

from optbus import subjects
from optbus.clock import Clock
from optbus.codec import dead_letter, encode
from optbus.events import Event
from optbus.ids import derived_event_id
from optbus.runtime.metrics import DEAD_LETTERS, EVENTS_PUBLISHED, KILLSWITCH_INVALID_COMMANDS

_log = structlog.get_logger()


class EventPublisher:
    """Publishes events to JetStream, each with its ``event_id`` as ``Nats-Msg-Id`` for dedupe.

    ``js`` is asked for the JetStream context at each publish, so a publisher can be wired
    before the connection exists (FastStream connects when the app starts).
    """

    def __init__(
        self, js: Callable[[], JetStreamContext], service: str, *, timeout: float = 10.0
    ) -> None:
        self._js = js
        self._service = service
        self._timeout = timeout

    async def publish(self, subject: str, event: Event) -> None:
        """Publish one event and wait until JetStream has stored it."""
        await self._js().publish(
            subject,
            encode(event),
            timeout=self._timeout,
            headers={"Nats-Msg-Id": event.event_id},
        )
        EVENTS_PUBLISHED.labels(self._service, type(event).__name__).inc()

    async def publish_all(self, batch: Iterable[tuple[str, Event]]) -> None:
        """Publish several events with their acks in flight together, in order on the wire."""
        await asyncio.gather(*(self.publish(subject, event) for subject, event in batch))


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
