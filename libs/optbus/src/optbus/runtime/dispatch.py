"""The handler shape every event-driven service shares: decode, handle, publish, then ack."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from nats.aio.msg import Msg

from optbus.codec import Decoder, UndecodableMessage
from optbus.events import Event
from optbus.routing import subject_of
from optbus.runtime.bus import DeadLetterOffice, EventPublisher
from optbus.runtime.metrics import MESSAGES_HANDLED

_log = structlog.get_logger()

Handle = Callable[[Any], Sequence[Event]]
"""A pure handler: one decoded message in, the events it causes out."""


@dataclass(frozen=True)
class Dispatcher:
    """Runs a pure handler over batches: what it returns is published before any input is acked.

    A message that does not decode, or that the handler raises on, is parked on the DLQ with
    the reason (and logged loudly) so that it can never block the messages behind it.
    """

    service: str
    consumer: str
    decoder: Decoder[Any]
    handle: Handle
    publisher: EventPublisher
    dead_letters: DeadLetterOffice

    async def __call__(self, messages: Sequence[Msg]) -> None:
        """Handle one batch."""
        produced: list[Event] = []
        handled: list[Msg] = []
        for msg in messages:
            reason = self._handle_one(msg, produced)
            if reason is None:
                handled.append(msg)
            else:
                await self.dead_letters.park(msg, reason)
                MESSAGES_HANDLED.labels(self.service, self.consumer, "dead_lettered").inc()
        await self.publisher.publish_all([(subject_of(event), event) for event in produced])
        for msg in handled:
            await msg.ack()
        MESSAGES_HANDLED.labels(self.service, self.consumer, "ok").inc(len(handled))

    def _handle_one(self, msg: Msg, produced: list[Event]) -> str | None:
        try:
            event = self.decoder.decode(msg.data)
        except UndecodableMessage as exc:
            return exc.reason
        try:
            produced.extend(self.handle(event))
        except Exception as exc:
            _log.exception("handler raised; message dead-lettered", consumer=self.consumer)
            return f"handler failed: {exc!r}"
        return None
