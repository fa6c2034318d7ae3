"""A service's place on the bus, declared once as data.

Each service writes one ``ServiceTopology``: the consumers it runs in delivery order (stream,
filter subject, durable name, what they decode, the handler each is made of, the dead-letter
office), the subjects it publishes, the history it rebuilds its state from and how, and the
clock its handlers run on. Everything else is derived from that declaration and never
restated: the live app (``optbus.runtime.wiring``), the backtest's in-memory wiring, the
replay's lockstep, the NATS permissions (``deploy/nats/generate_accounts.py``) and the table
of consumers in the docs.

A declaration is pure data with handler factories: importing it opens no connection, so the
backtest, the permissions generator and the docs read it freely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar

from optbus import subjects
from optbus.clock import ClockKind, EventClock, LiveClock, on_clock
from optbus.events import Event

if TYPE_CHECKING:
    from nats.aio.msg import Msg
    from nats.js import JetStreamContext

    from optbus.runtime.bus import DeadLetterOffice, EventPublisher

Deps = TypeVar("Deps")
"""What one service's handlers are made from: its domain engine, configuration and clock."""

EventT = TypeVar("EventT")
"""The event type a consumer decodes (``Event``: any bus event)."""

Handler: TypeAlias = Callable[[EventT], Sequence[Event]]
"""A pure handler: one decoded event in, the events it causes out."""

Handle: TypeAlias = Handler[Any]
"""A pure handler of whatever its consumer decodes."""

BatchHandler: TypeAlias = Callable[["Sequence[Msg]"], Awaitable[object]]
"""A handler of a batch of raw messages that does I/O of its own (acks included)."""

DeadLetterKind = Literal["standard", "kill_switch"]
"""``kill_switch``: a command that does not parse is parked loudly, for the alert."""

ClockRule = Literal["market", "configured", "wall"]
"""How a service's clock advances: ``market``, always to the time of the event being handled
(a trading decision compares times on the market's clock, live or replayed); ``configured``,
the wall clock live and the market's clock in a replay (``OPTBUS_CLOCK``); ``wall``, the wall
clock always (a service that only stores or schedules)."""

StartAt = Literal["first", "new"]
"""Where a new durable starts: at the stream's ``first`` message (nothing may be missed), or at
``new`` ones (the service rebuilds its state from history and must not act on old events).

A durable is created by ``optbus bus migrate``, not by its service: a ``new`` one starts at
the end of its stream when the migration first made it. What is published between then and
the service's first start is delivered at that start, as what is published while a service is
down is delivered when it comes back."""

UNLIMITED = -1
"""``max_deliver`` of a consumer JetStream redelivers to for as long as it takes."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """How JetStream delivers to each of a service's durables, stored on the durable itself:
    how long a delivered message may go unacked (``ack_wait_seconds``), how many may be
    delivered and unacked at once across every replica of the service (``max_ack_pending``: no
    replica may ask for a batch larger), and how often a message is delivered before it is
    parked (``max_deliver``, or ``UNLIMITED``).

    Declared here, not set by the service's environment, because ``optbus bus migrate``
    creates the durables from the declaration and the service only checks them: a setting the
    service changed alone would be a drift it refuses to start with."""

    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 1000
    max_deliver: int = 10


@dataclass(frozen=True, slots=True)
class EventConsumer(Generic[Deps, EventT]):
    """A consumer whose handler is a pure function of (event, dependencies).

    It runs on the live bus (behind the ``Dispatcher``) and, unchanged, on the backtest's
    in-memory bus. ``decodes`` is the event type on its subject (``Event``: any bus event).
    Declare one with ``event_consumer``, which type-checks the pair.
    """

    stream: str
    subject: str
    durable: str
    decodes: type[EventT]
    handler: Callable[[Deps], Handler[EventT]]
    dead_letters: DeadLetterKind = "standard"
    batch_size: int | None = None


def event_consumer(
    stream: str,
    subject: str,
    durable: str,
    decodes: type[EventT],
    handler: Callable[[Deps], Handler[EventT]],
    *,
    dead_letters: DeadLetterKind = "standard",
    batch_size: int | None = None,
) -> EventConsumer[Deps, Any]:
    """Declare an ``EventConsumer``, with mypy checking that the handler takes what the
    consumer decodes (inside a topology's tuple the event type would be inferred as Any)."""
    return EventConsumer(stream, subject, durable, decodes, handler, dead_letters, batch_size)


@dataclass(frozen=True, slots=True)
class BatchConsumer(Generic[Deps]):
    """A consumer whose handler does I/O with the bus or the database (live only): it is made
    from the dependencies and the consumer's own bus ports, and acks what it handled."""

    stream: str
    subject: str
    durable: str
    handler: Callable[[Deps, ConsumerPorts], BatchHandler]
    dead_letters: DeadLetterKind = "standard"
    batch_size: int | None = None
    max_deliver: int | None = None
    """How often a message is delivered before it is parked (-1: ``UNLIMITED``), when not the
    service's ``Delivery``: for a consumer that must never drop what keeps failing."""
    backoff_seconds: tuple[float, ...] | None = None
    """The delays between its deliveries, when not the service's ``PullTuning``."""


Consumer: TypeAlias = EventConsumer[Deps, Any] | BatchConsumer[Deps]


@dataclass(frozen=True, slots=True)
class History(Generic[Deps]):
    """Where a service rebuilds its state at start: every event of ``stream`` on ``subjects``,
    in stream order, each folded into the state by ``fold`` (on the service's clock)."""

    stream: str
    subjects: tuple[str, ...]
    fold: Callable[[Deps], Handle]


@dataclass(frozen=True, slots=True)
class ServiceTopology(Generic[Deps]):
    """One service on the bus: what it consumes, in delivery order, and what it publishes."""

    service: str
    consumers: tuple[Consumer[Deps], ...]
    publishes: tuple[str, ...]
    clock: ClockRule
    start_at: StartAt = "first"
    history: History[Deps] | None = None
    delivery: Delivery = Delivery()

    def __post_init__(self) -> None:
        durables = [consumer.durable for consumer in self.consumers]
        if len(set(durables)) != len(durables):
            raise ValueError(f"{self.service}: a durable name is declared twice: {durables}")

    @property
    def streams(self) -> tuple[subjects.StreamSpec, ...]:
        """The streams this service consumes, reads its history from or publishes to (dead
        letters too, when it consumes), in the bus's order: what it checks at start, and the
        streams whose info its NATS user may read."""
        used = {
            *(consumer.stream for consumer in self.consumers),
            *((self.history.stream,) if self.history else ()),
            *(subjects.stream_of(subject).name for subject in self.publishes),
            *((subjects.stream_of(subjects.dead_letter(">")).name,) if self.consumers else ()),
        }
        return tuple(spec for spec in subjects.STREAMS if spec.name in used)

    @property
    def event_consumers(self) -> tuple[EventConsumer[Deps, Any], ...]:
        """The consumers with pure handlers: what the backtest runs of this service."""
        return tuple(c for c in self.consumers if isinstance(c, EventConsumer))

    def make_clock(self, configured: ClockKind) -> LiveClock | EventClock:
        """The clock this service runs on, given the process's ``OPTBUS_CLOCK``."""
        if self.clock == "market" or (self.clock == "configured" and configured == "market"):
            return EventClock()
        return LiveClock()

    def bind(self, deps: Deps) -> BoundTopology[Deps]:
        """This topology with the dependencies its handlers are made from."""
        return BoundTopology(self, deps)

    def handler(
        self, consumer: EventConsumer[Deps, Any], deps: Deps, clock: LiveClock | EventClock
    ) -> Handle:
        """``consumer``'s handler made from ``deps``, on ``clock``: on market time the clock
        first moves to each event's time (the one way a service's clock advances)."""
        return on_clock(consumer.handler(deps), clock)

    def restore(self, deps: Deps, clock: LiveClock | EventClock, events: Sequence[Event]) -> None:
        """Fold recorded ``events`` into the state, on the clock, as the live path does."""
        if self.history is None:
            raise ValueError(f"{self.service} declares no history to restore from")
        fold = on_clock(self.history.fold(deps), clock)
        for event in events:
            fold(event)


@dataclass(frozen=True, slots=True)
class BoundTopology(Generic[Deps]):
    """A topology and its dependencies, checked to match where they are paired."""

    topology: ServiceTopology[Deps]
    deps: Deps

    def handlers(
        self, clock: LiveClock | EventClock
    ) -> list[tuple[EventConsumer[Deps, Any], Handle]]:
        """Every pure consumer, in the declared order, with its handler on ``clock``."""
        topology = self.topology
        return [(c, topology.handler(c, self.deps, clock)) for c in topology.event_consumers]


@dataclass(frozen=True, slots=True)
class ConsumerPorts:
    """What a batch handler may use of the bus: publish events, reach JetStream, park a
    message on the dead-letter stream (as this consumer), and the service's name (metrics)."""

    service: str
    publisher: EventPublisher
    jetstream: Callable[[], JetStreamContext]
    dead_letters: DeadLetterOffice
