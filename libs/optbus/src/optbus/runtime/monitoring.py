"""What a running service exports beyond its own counters: every series an alert reads present
from the start, its dependencies' health and each durable consumer's lag.

A labelled counter has no sample until its first increment, so ``increase()`` would miss the
first dead letter or invalid kill-switch command: every label set an alert or panel reads is
created at zero when the service starts. The health checks behind ``/healthz`` and each
consumer's info are polled in the background, so Prometheus sees a lost database or a consumer
falling behind without scraping the health endpoint or the NATS server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from optbus.routing import types_published_within
from optbus.runtime.consumer import PullConsumerSpec
from optbus.runtime.health import HEALTH_CHECK_TIMEOUT_SECONDS, HealthCheck, failures
from optbus.runtime.metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_PENDING,
    DEAD_LETTERS,
    DEPENDENCY_UP,
    EVENTS_PUBLISHED,
    HANDLER_SECONDS,
    KILLSWITCH_INVALID_COMMANDS,
    MESSAGES_HANDLED,
)
from optbus.runtime.topology import ServiceTopology

_log = structlog.get_logger()

OUTCOMES = ("ok", "dead_lettered", "retried", "failed")
"""Every outcome ``optbus_messages_handled_total`` counts."""


def start_series_at_zero(topology: ServiceTopology[Any]) -> None:
    """Create, at zero, the series of every counter the service may increment: per consumer,
    its outcomes, handling time and dead letters; per event type its declared subjects hold,
    the events published; the invalid kill-switch commands where it consumes them."""
    service = topology.service
    for event_type in types_published_within(topology.publishes):
        EVENTS_PUBLISHED.labels(service, event_type.__name__)
    for consumer in topology.consumers:
        HANDLER_SECONDS.labels(service, consumer.durable)
        DEAD_LETTERS.labels(service, consumer.durable)
        for outcome in OUTCOMES:
            MESSAGES_HANDLED.labels(service, consumer.durable, outcome)
        if consumer.dead_letters == "kill_switch":
            KILLSWITCH_INVALID_COMMANDS.labels(service)


class DependencyMonitor:
    """Every ``interval_seconds``: each health check into ``optbus_dependency_up`` and, while
    NATS answers, each consumer's pending and ack-pending counts from its consumer info."""

    def __init__(
        self,
        service: str,
        checks: Mapping[str, HealthCheck],
        jetstream: Callable[[], JetStreamContext],
        consumers: Sequence[PullConsumerSpec],
        interval_seconds: float,
    ) -> None:
        self._service = service
        self._checks = checks
        self._jetstream = jetstream
        self._consumers = consumers
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def poll(self) -> None:
        """Check every dependency and read every consumer's counts once."""
        reasons = await failures(self._checks)
        for name, reason in reasons.items():
            DEPENDENCY_UP.labels(self._service, name).set(0 if reason else 1)
        if reasons.get("nats") is None:
            for spec in self._consumers:
                await self._read_lag(spec)

    async def _read_lag(self, spec: PullConsumerSpec) -> None:
        try:
            info = await asyncio.wait_for(
                self._jetstream().consumer_info(spec.stream, spec.durable),
                HEALTH_CHECK_TIMEOUT_SECONDS,
            )
        except (NatsError, TimeoutError) as exc:
            # The NATS alert covers an outage; the gauges keep their last counts meanwhile.
            _log.warning("consumer info unavailable", consumer=spec.durable, error=repr(exc))
            return
        CONSUMER_PENDING.labels(self._service, spec.durable).set(info.num_pending or 0)
        CONSUMER_ACK_PENDING.labels(self._service, spec.durable).set(info.num_ack_pending or 0)

    async def start(self) -> None:
        """Poll once now (the gauges exist from the first scrape), then in the background."""
        await self.poll()
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-monitor")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.poll()

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
