"""A declared topology: its clocks, its handlers on the clock, and the consumers made of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest
from faststream.nats import NatsBroker

from optbus.clock import ClockKind, EventClock, LiveClock
from optbus.events import EndOfDay, Event
from optbus.runtime.bus import KillSwitchDeadLetterOffice
from optbus.runtime.topology import (
    BatchConsumer,
    BatchHandler,
    ClockRule,
    ConsumerPorts,
    Handle,
    History,
    ServiceTopology,
    event_consumer,
)
from optbus.runtime.wiring import LiveBus, PullTuning, pull_consumers


class Recorder:
    """Deps of a test service: remembers the events handled and the clock's time at each."""

    def __init__(self, clock: EventClock | LiveClock) -> None:
        self.clock = clock
        self.seen: list[tuple[str, int]] = []

    def record(self, event: Event) -> Sequence[Event]:
        self.seen.append((event.event_id, self.clock.now_ns()))
        return []


def _record(deps: Recorder) -> Handle:
    return deps.record


def _batch(deps: Recorder, ports: ConsumerPorts) -> BatchHandler:
    async def handle(batch: Sequence[object]) -> None:
        return None

    return handle


def _topology(clock: ClockRule = "market") -> ServiceTopology[Recorder]:
    return ServiceTopology(
        service="test",
        consumers=(
            event_consumer("CONTROL", "control.eod", "test-eod", EndOfDay, _record),
            BatchConsumer(
                "CONTROL",
                "control.killswitch",
                "test-commands",
                _batch,
                dead_letters="kill_switch",
                batch_size=7,
            ),
        ),
        publishes=("model.>",),
        clock=clock,
        start_at="new",
        history=History("CONTROL", ("control.eod",), _record),
    )


def test_a_service_checks_the_streams_it_consumes_publishes_to_and_parks_on() -> None:
    assert [spec.name for spec in _topology().streams] == ["CONTROL", "MODELS", "DLQ"]


def test_a_service_that_only_publishes_checks_only_where_it_publishes() -> None:
    topology: ServiceTopology[Recorder] = ServiceTopology(
        "test", consumers=(), publishes=("md.>",), clock="wall"
    )

    assert [spec.name for spec in topology.streams] == ["MD"]


def _eod(event_id: str, ts_event: int) -> EndOfDay:
    return EndOfDay(event_id=event_id, ts_event=ts_event, ts_init=0, trading_date=date(2026, 12, 4))


def test_a_durable_declared_twice_is_refused() -> None:
    consumer = event_consumer("CONTROL", "control.eod", "twice", EndOfDay, _record)

    with pytest.raises(ValueError, match="declared twice"):
        ServiceTopology("test", (consumer, consumer), publishes=(), clock="wall")


@pytest.mark.parametrize(
    ("rule", "configured", "expected"),
    [
        ("market", "live", EventClock),
        ("market", "market", EventClock),
        ("configured", "live", LiveClock),
        ("configured", "market", EventClock),
        ("wall", "market", LiveClock),
    ],
)
def test_the_clock_follows_the_declared_rule(
    rule: ClockRule, configured: ClockKind, expected: type
) -> None:
    assert type(_topology(rule).make_clock(configured)) is expected


def test_a_handler_on_market_time_sees_the_clock_at_its_event() -> None:
    clock = EventClock()
    deps = Recorder(clock)
    [(consumer, handle)] = _topology().bind(deps).handlers(clock)

    handle(_eod("a", 5))
    handle(_eod("b", 9))

    assert consumer.durable == "test-eod"
    assert deps.seen == [("a", 5), ("b", 9)]


def test_restoring_folds_the_history_on_the_clock() -> None:
    clock = EventClock()
    deps = Recorder(clock)

    _topology().restore(deps, clock, [_eod("a", 3), _eod("b", 4)])

    assert deps.seen == [("a", 3), ("b", 4)]
    assert clock.now_ns() == 4


def test_restoring_a_service_without_history_is_an_error() -> None:
    topology: ServiceTopology[Recorder] = ServiceTopology("test", (), publishes=(), clock="wall")

    with pytest.raises(ValueError, match="no history"):
        topology.restore(Recorder(LiveClock()), LiveClock(), [])


def test_the_live_consumers_are_the_declared_ones_in_order() -> None:
    clock = EventClock()
    bus = LiveBus(NatsBroker(), "test", clock)

    made = pull_consumers(_topology(), Recorder(clock), bus, PullTuning(batch_size=50))

    assert [(c.spec.stream, c.spec.subject, c.spec.durable) for c in made] == [
        ("CONTROL", "control.eod", "test-eod"),
        ("CONTROL", "control.killswitch", "test-commands"),
    ]
    assert [c.spec.batch_size for c in made] == [50, 7]
    assert not any(c.spec.from_start for c in made)


def test_a_kill_switch_consumer_parks_its_letters_loudly() -> None:
    bus = LiveBus(NatsBroker(), "test", LiveClock())

    ports = bus.ports(_topology().consumers[1])

    assert isinstance(ports.dead_letters, KillSwitchDeadLetterOffice)


def test_only_keeps_the_consumers_asked_for() -> None:
    clock = EventClock()
    bus = LiveBus(NatsBroker(), "test", clock)

    made = pull_consumers(
        _topology(), Recorder(clock), bus, PullTuning(batch_size=1),
        only=lambda consumer: consumer.durable == "test-eod",
    )  # fmt: skip

    assert [c.spec.durable for c in made] == ["test-eod"]
