"""An in-memory bus: one FIFO queue, routed by subject as the live services subscribe.

Every published event gets its live subject (``optbus.routing.subject_of``); each
subscription is a NATS subject pattern (``*`` one token, ``>`` the rest), checked in the
order the subscriptions were made. Whatever a handler returns is published in turn, at the
back of the queue, so the order of delivery is fixed by the input alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from optbus.events import Event
from optbus.routing import subject_of
from optbus.subjects import subject_matches
from optbus_backtest.clock import BacktestClock

Handler = Callable[[Event], Iterable[Event]]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A named consumer of a subject pattern (the durable's name on the live bus)."""

    name: str
    pattern: str
    handler: Handler


class InMemoryBus:
    """Publish puts an event at the back of the queue; drain delivers until it is empty."""

    def __init__(self, clock: BacktestClock) -> None:
        self._clock = clock
        self._subscriptions: list[Subscription] = []
        self._routes: dict[str, list[Subscription]] = {}
        self._queue: deque[tuple[str, Event]] = deque()
        self.delivered = 0

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription, in the order an event reaches them."""
        return tuple(self._subscriptions)

    def subscribe(self, name: str, pattern: str, handler: Handler) -> None:
        """Deliver every event whose subject matches ``pattern`` to ``handler``."""
        self._subscriptions.append(Subscription(name, pattern, handler))
        self._routes.clear()

    def publish(self, event: Event) -> str:
        """Queue ``event`` on its live subject; returns the subject."""
        subject = subject_of(event)
        self._queue.append((subject, event))
        return subject

    def drain(self, on_published: Callable[[str, Event], None]) -> None:
        """Deliver queued events in order, publishing what each handler returns.

        ``on_published`` sees every event a handler produced, in the order it was produced.
        Consuming an event stamped after the replay time raises LookAhead.
        """
        while self._queue:
            subject, event = self._queue.popleft()
            self._clock.observe(event.ts_event)
            for subscription in self._route(subject):
                for produced in subscription.handler(event):
                    on_published(self.publish(produced), produced)
                self.delivered += 1

    def _route(self, subject: str) -> list[Subscription]:
        route = self._routes.get(subject)
        if route is None:
            route = [s for s in self._subscriptions if subject_matches(s.pattern, subject)]
            self._routes[subject] = route
        return route
