"""Every series an alert reads exists from the start; dependency checks become gauges."""

from __future__ import annotations

from collections.abc import Sequence

from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from optbus import subjects
from optbus.events import Event, KillSwitchCommand
from optbus.runtime.monitoring import DependencyMonitor, start_series_at_zero
from optbus.runtime.topology import Handler, ServiceTopology, event_consumer


def _ignore(deps: object) -> Handler[KillSwitchCommand]:
    def handle(command: KillSwitchCommand) -> Sequence[Event]:
        return []

    return handle


TOPOLOGY: ServiceTopology[object] = ServiceTopology(
    service="watched",
    consumers=(
        event_consumer(
            "CONTROL",
            subjects.KILLSWITCH,
            "watched-killswitch",
            KillSwitchCommand,
            _ignore,
            dead_letters="kill_switch",
        ),
    ),
    publishes=(),
    clock="wall",
)


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_a_consumers_dead_letters_are_exported_at_zero_before_the_first() -> None:
    start_series_at_zero(TOPOLOGY)

    assert _sample("optbus_dead_letters_total", service="watched",
                   consumer="watched-killswitch") == 0  # fmt: skip


def test_invalid_kill_switch_commands_are_exported_at_zero_where_commands_are_consumed() -> None:
    start_series_at_zero(TOPOLOGY)

    assert _sample("optbus_killswitch_invalid_commands_total", service="watched") == 0


def test_every_outcome_of_a_consumer_is_exported_at_zero() -> None:
    start_series_at_zero(TOPOLOGY)

    for outcome in ("ok", "dead_lettered", "retried", "failed"):
        assert _sample("optbus_messages_handled_total", service="watched",
                       consumer="watched-killswitch", outcome=outcome) == 0  # fmt: skip


def _no_jetstream() -> JetStreamContext:
    raise AssertionError("consumer info was read while NATS did not answer")


async def test_a_failed_dependency_check_is_exported_as_down() -> None:
    async def database() -> bool:
        return False

    async def nats() -> bool:
        return True

    monitor = DependencyMonitor("watched", {"nats": nats, "database": database}, _no_jetstream,
                                [], interval_seconds=60)  # fmt: skip
    await monitor.poll()

    assert _sample("optbus_dependency_up", service="watched", dependency="database") == 0
    assert _sample("optbus_dependency_up", service="watched", dependency="nats") == 1


def test_the_events_a_service_may_publish_are_exported_at_zero_before_the_first() -> None:
    publishing: ServiceTopology[object] = ServiceTopology(
        service="announcer", consumers=(), publishes=(subjects.KILLSWITCH_ENGAGED,), clock="wall"
    )

    start_series_at_zero(publishing)

    assert _sample("optbus_events_published_total", service="announcer",
                   type="KillSwitchEngaged") == 0  # fmt: skip
    assert _sample("optbus_events_published_total", service="announcer", type="Fill") is None


def test_a_consumers_handling_time_is_exported_before_the_first_message() -> None:
    start_series_at_zero(TOPOLOGY)

    assert _sample("optbus_handler_seconds_count", service="watched",
                   consumer="watched-killswitch") == 0  # fmt: skip
