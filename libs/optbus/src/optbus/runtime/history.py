"""Reading a stream's recorded events from the start, to rebuild a service's state."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from optbus.codec import UndecodableMessage, any_event_decoder
from optbus.events import Event

_log = structlog.get_logger()
_decoder = any_event_decoder()


async def _read_subject(js: JetStreamContext, stream: str, subject: str, batch: int) -> list[Msg]:
    config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE)
    subscription = await js.pull_subscribe(subject, stream=stream, config=config)
    messages: list[Msg] = []
    try:
        while True:
            try:
                fetched = await subscription.fetch(batch, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                break
            messages.extend(fetched)
            if fetched[-1].metadata.num_pending == 0:
                break
    finally:
        await subscription.unsubscribe()
    return messages


async def read_history(
    js: JetStreamContext, stream: str, subjects: Sequence[str], batch: int = 500
) -> list[Event]:
    """Every decodable event of ``stream`` on ``subjects``, in stream order, up to now.

    One ephemeral consumer per subject filter (servers before 2.10 take only one filter),
    merged by stream sequence.
    """
    if (await js.stream_info(stream)).state.messages == 0:
        return []
    messages = [m for s in subjects for m in await _read_subject(js, stream, s, batch)]
    messages.sort(key=lambda msg: msg.metadata.sequence.stream)
    events: list[Event] = []
    for msg in messages:
        try:
            events.append(_decoder.decode(msg.data))
        except UndecodableMessage as exc:
            _log.warning("skipping an undecodable recorded event", reason=exc.reason)
    return events
