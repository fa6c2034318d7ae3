"""Reading a stream's recorded events from the start, to rebuild a service's state.

A restore is complete or it fails: a trading service that started on part of its history
would trade on a wrong state (positions it forgot, decisions it never saw), so a read that
cannot get every message the stream held when it began raises ``IncompleteHistory`` and the
service refuses to start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.nuid import NUID
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from optbus.codec import UndecodableMessage, any_event_decoder
from optbus.events import Event

FETCH_WAIT_SECONDS = 1.0
"""How long one fetch waits for messages; one that times out is asked again, not the end."""

_log = structlog.get_logger()
_decoder = any_event_decoder()


class RestoreSettings(BaseSettings):
    """How long a service may take to read its history at start (``OPTBUS_RESTORE_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_RESTORE_", extra="ignore", frozen=True)

    timeout_seconds: float = Field(
        default=30.0, gt=0, description="the whole read, every subject; then the start fails"
    )


class IncompleteHistory(RuntimeError):
    """Not every message the stream held at the start of the read arrived in time."""

    def __init__(
        self, stream: str, subject: str, expected: int, received: int, timeout_seconds: float
    ) -> None:
        self.stream = stream
        self.subject = subject
        self.missing = expected - received
        super().__init__(
            f"history of stream {stream} on {subject} is incomplete: {received} of {expected} "
            f"messages arrived within {timeout_seconds:g} s ({self.missing} missing); "
            "refusing to start on a partial state"
        )


async def _read_subject(
    js: JetStreamContext, stream: str, subject: str, batch: int, timeout_seconds: float
) -> list[Msg]:
    """Every message on ``subject`` the stream holds now, or ``IncompleteHistory`` once
    ``timeout_seconds`` passed.

    The ephemeral consumer's creation answers how many messages match (``num_pending``): the
    first that many deliveries, in stream order, are exactly those, whatever is published
    meanwhile."""
    config = ConsumerConfig(
        name=NUID().next().decode(), filter_subject=subject,
        deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE,
    )  # fmt: skip
    expected = (await js.add_consumer(stream, config)).num_pending or 0
    messages: list[Msg] = []
    if expected == 0:
        return messages
    subscription = await js.pull_subscribe_bind(stream=stream, consumer=config.name)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_seconds
    try:
        while len(messages) < expected:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise IncompleteHistory(stream, subject, expected, len(messages), timeout_seconds)
            wanted = min(batch, expected - len(messages))
            try:
                fetched = await subscription.fetch(wanted, min(FETCH_WAIT_SECONDS, remaining))
            except (NatsTimeoutError, TimeoutError):
                continue
            messages.extend(fetched)
    finally:
        await subscription.unsubscribe()
    return messages


async def read_history(
    js: JetStreamContext,
    stream: str,
    subjects: Sequence[str],
    batch: int = 500,
    timeout_seconds: float | None = None,
) -> list[Event]:
    """Every decodable event of ``stream`` on ``subjects``, in stream order, up to now; or
    ``IncompleteHistory`` when a subject's messages do not all arrive within
    ``timeout_seconds`` (``RestoreSettings`` unless given) of starting to read it.

    One ephemeral consumer per subject filter (servers before 2.10 take only one filter),
    merged by stream sequence.
    """
    timeout = RestoreSettings().timeout_seconds if timeout_seconds is None else timeout_seconds
    messages = [m for s in subjects for m in await _read_subject(js, stream, s, batch, timeout)]
    messages.sort(key=lambda msg: msg.metadata.sequence.stream)
    events: list[Event] = []
    for msg in messages:
        try:
            events.append(_decoder.decode(msg.data))
        except UndecodableMessage as exc:
            _log.warning("skipping an undecodable recorded event", reason=exc.reason)
    return events
