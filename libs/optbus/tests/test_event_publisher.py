"""EventPublisher against a JetStream that does not always confirm: it publishes again under
the same id, gives up only after its patience, and holds no more than its buffer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeout
from prometheus_client import REGISTRY

from optbus.events import VolatilityIndexTick
from optbus.runtime.bus import EventPublisher

TS = 1_764_564_300_000_000_000


@dataclass
class FlakyJetStream:
    """Fails the first ``failures`` publishes with ``error``; records every attempt."""

    failures: int = 0
    error: Exception = field(default_factory=NatsTimeout)
    hold: asyncio.Event | None = None
    attempts: list[tuple[str, bytes, str]] = field(default_factory=list)
    waiting: int = 0
    most_waiting: int = 0

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str], **_: float
    ) -> None:
        self.attempts.append((subject, payload, headers["Nats-Msg-Id"]))
        if len(self.attempts) <= self.failures:
            raise self.error
        if self.hold is not None:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            await self.hold.wait()
            self.waiting -= 1


def _tick(n: int = 1) -> VolatilityIndexTick:
    return VolatilityIndexTick(event_id=f"vix-{n}", ts_event=TS, ts_init=TS, index="X", value=1.0)


def _publisher(js: FlakyJetStream, service: str, **options: float) -> EventPublisher:
    return EventPublisher(lambda: js, service, **options)  # type: ignore[arg-type, return-value]


async def test_an_event_jetstream_did_not_confirm_is_published_again_with_the_same_id() -> None:
    js = FlakyJetStream(failures=2)

    await _publisher(js, "t-again").publish("md.vix.X", _tick())

    assert js.attempts == [js.attempts[0]] * 3


async def test_an_event_published_again_is_counted_once_as_retried() -> None:
    js = FlakyJetStream(failures=2)

    await _publisher(js, "t-count").publish("md.vix.X", _tick())

    assert REGISTRY.get_sample_value("optbus_publish_retried_total", {"service": "t-count"}) == 1


async def test_publishing_fails_once_jetstream_stays_away_past_the_patience() -> None:
    js = FlakyJetStream(failures=1_000)

    with pytest.raises(NatsTimeout):
        await _publisher(js, "t-patience", patience_seconds=0.5).publish("md.vix.X", _tick())


async def test_a_closed_connection_fails_the_publish_at_once() -> None:
    js = FlakyJetStream(failures=1, error=ConnectionClosedError())

    with pytest.raises(ConnectionClosedError):
        await _publisher(js, "t-closed").publish("md.vix.X", _tick())


async def test_no_more_events_than_the_buffer_holds_wait_for_jetstream() -> None:
    js = FlakyJetStream(hold=asyncio.Event())
    publisher = _publisher(js, "t-buffer", max_pending=2)
    publishing = asyncio.ensure_future(
        publisher.publish_all([("md.vix.X", _tick(n)) for n in range(5)])
    )
    await asyncio.sleep(0.1)
    pending = REGISTRY.get_sample_value("optbus_publish_pending", {"service": "t-buffer"})
    assert js.hold is not None
    js.hold.set()
    await publishing

    assert (js.most_waiting, pending) == (2, 2)
