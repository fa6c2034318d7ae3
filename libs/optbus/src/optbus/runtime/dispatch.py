"""The handler shape every event-driven service shares: decode, handle, publish, then ack."""

from __future__ import annotations

import asyncio
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

TURNS_TO_THE_WIRE = 2
"""Event-loop turns after ``EventPublisher.start_all`` until nats-py has written the events to
its socket: one for each publish task to put its event in the client's buffer and wake the
client's flusher task, one for the flusher to write (nats-py 2.16's ``publish`` and
``_flusher``; checked against a live server, the buffer is empty after two turns)."""


@dataclass(frozen=True)
class Dispatcher:
    """Runs a pure handler over batches: what it returns is published before any input is acked.

    Each message's events go on the wire as soon as it is handled, before the next message of
    the batch is handled, and in the batch's order; the confirmations are awaited together at
    the end, then the inputs acked. So a message does not wait for its batch-mates' handling
    (a second's chains come in one batch, and only one of them may be the one a trade is
    decided on), and what the handler caused is still stored before its input is acked.

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
        handled: list[Msg] = []
        confirmations: list[asyncio.Future[list[None]]] = []
        try:
            for msg in messages:
                produced: list[Event] = []
                reason = self._handle_one(msg, produced)
                if reason is not None:
                    await self.dead_letters.park(msg, reason)
                    MESSAGES_HANDLED.labels(self.service, self.consumer, "dead_lettered").inc()
                    continue
                handled.append(msg)
                if produced:
                    batch = [(subject_of(event), event) for event in produced]
                    confirmations.append(self.publisher.start_all(batch))
                    for _ in range(TURNS_TO_THE_WIRE):
                        await asyncio.sleep(0)
        finally:
            # Even when parking failed midway, no publish is left running unawaited.
            outcomes = await asyncio.gather(*confirmations, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
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
