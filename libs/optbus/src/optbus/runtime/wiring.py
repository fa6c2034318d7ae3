"""A declared topology on the live bus: each consumer a durable pull consumer with its handler."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from optbus.clock import EventClock, LiveClock
from optbus.codec import Decoder, any_event_decoder
from optbus.events import Event
from optbus.runtime.bus import DeadLetterOffice, EventPublisher, KillSwitchDeadLetterOffice
from optbus.runtime.consumer import DEFAULT_BACKOFF_SECONDS, PullConsumer, PullConsumerSpec
from optbus.runtime.dispatch import Dispatcher
from optbus.runtime.history import read_history
from optbus.runtime.topology import (
    BatchConsumer,
    Consumer,
    ConsumerPorts,
    EventConsumer,
    ServiceTopology,
)

Deps = TypeVar("Deps")


@dataclass(frozen=True, slots=True)
class PullTuning:
    """How a service's consumers pull: batch size (unless a consumer declares its own, and
    never more than the durable's ``max_ack_pending``), how long to wait after a failed pull,
    how long a failed message waits before its next delivery (``backoff_seconds``, by delivery
    count), and how long a batch that is not full lingers.

    What JetStream stores on the durable (ack wait, max ack pending, max deliver) is not here:
    it is declared in the topology (``ServiceTopology.delivery``), made by ``optbus bus
    migrate`` and only checked by the service."""

    batch_size: int = 100
    retry_delay_seconds: float = 1.0
    backoff_seconds: tuple[float, ...] = DEFAULT_BACKOFF_SECONDS
    linger_seconds: float = 0.0


class LiveBus:
    """A service's connection to the bus, made before the connection exists (FastStream
    connects when the app starts): its publisher, JetStream, and dead-letter offices."""

    def __init__(self, broker: NatsBroker, service: str, clock: LiveClock | EventClock) -> None:
        self.broker = broker
        self.service = service
        self.clock = clock
        self.publisher = EventPublisher(self.jetstream, service)

    def jetstream(self) -> JetStreamContext:
        """The JetStream context of the current connection."""
        return self.broker.connection.jetstream()

    def ports(self, consumer: Consumer[Any]) -> ConsumerPorts:
        """What ``consumer``'s handler may use, its dead letters parked under its name."""
        office = (
            KillSwitchDeadLetterOffice
            if consumer.dead_letters == "kill_switch"
            else DeadLetterOffice
        )
        dead_letters = office(self.publisher, self.service, consumer.durable, self.clock)
        return ConsumerPorts(self.service, self.publisher, self.jetstream, dead_letters)

    async def history(self, topology: ServiceTopology[Any]) -> list[Event]:
        """The recorded events ``topology`` rebuilds its state from, in stream order."""
        if topology.history is None:
            return []
        return await read_history(
            self.jetstream(), topology.history.stream, topology.history.subjects
        )


def _decoder(event_type: type[Any]) -> Decoder[Any]:
    return any_event_decoder() if event_type is Event else Decoder(event_type)


def pull_consumers(
    topology: ServiceTopology[Deps],
    deps: Deps,
    bus: LiveBus,
    tuning: PullTuning,
    only: Callable[[Consumer[Deps]], bool] = lambda consumer: True,
) -> list[PullConsumer]:
    """Every declared consumer (those ``only`` keeps), in order, as a durable pull consumer:
    a pure handler behind a ``Dispatcher`` on the service's clock, a batch handler as made."""
    consumers: list[PullConsumer] = []
    for declared in (c for c in topology.consumers if only(c)):
        ports = bus.ports(declared)
        if isinstance(declared, EventConsumer):
            handler: Callable[[Sequence[Any]], Any] = Dispatcher(
                service=topology.service, consumer=declared.durable,
                decoder=_decoder(declared.decodes),
                handle=topology.handler(declared, deps, bus.clock),
                publisher=bus.publisher, dead_letters=ports.dead_letters,
            )  # fmt: skip
        else:
            handler = declared.handler(deps, ports)
        backoff = tuning.backoff_seconds
        if isinstance(declared, BatchConsumer) and declared.backoff_seconds is not None:
            backoff = declared.backoff_seconds
        spec = dataclasses.replace(
            PullConsumerSpec.declared(topology, declared),
            batch_size=declared.batch_size or tuning.batch_size,
            retry_delay_seconds=tuning.retry_delay_seconds,
            backoff_seconds=backoff,
            linger_seconds=tuning.linger_seconds,
        )
        consumers.append(
            PullConsumer(
                lambda: bus.broker.connection, spec, handler, bus.service, ports.dead_letters
            )
        )
    return consumers
