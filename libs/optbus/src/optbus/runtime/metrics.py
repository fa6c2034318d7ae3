"""Prometheus metrics every service exports, all named ``optbus_*``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_HANDLED = Counter(
    "optbus_messages_handled_total",
    "Messages a consumer finished with, by outcome (ok, dead_lettered, retried, failed)",
    ["service", "consumer", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "optbus_handler_seconds",
    "Time spent handling one message or batch",
    ["service", "consumer"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EVENTS_PUBLISHED = Counter(
    "optbus_events_published_total",
    "Events published to JetStream, by event type",
    ["service", "type"],
)
DEAD_LETTERS = Counter(
    "optbus_dead_letters_total",
    "Messages parked on the dead-letter stream",
    ["service", "consumer"],
)
PUBLISH_PENDING = Gauge(
    "optbus_publish_pending",
    "Events handed to the publisher that JetStream has not confirmed yet (its bounded buffer)",
    ["service"],
)
PUBLISH_RETRIED = Counter(
    "optbus_publish_retried_total",
    "Events JetStream did not confirm at once, published again under the same id until it did",
    ["service"],
)
UP = Gauge("optbus_up", "1 while the service runs", ["service"])
DEPENDENCY_UP = Gauge(
    "optbus_dependency_up",
    "1 when the service's last check of a dependency (nats, database) passed within its bound",
    ["service", "dependency"],
)
CONSUMER_PENDING = Gauge(
    "optbus_consumer_pending_messages",
    "Messages on a durable consumer's subjects not yet delivered to it (how far behind it is)",
    ["service", "consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "optbus_consumer_ack_pending_messages",
    "Messages delivered to a durable consumer and not acknowledged yet",
    ["service", "consumer"],
)

KILLSWITCH_INVALID_COMMANDS = Counter(
    "optbus_killswitch_invalid_commands_total",
    "Kill-switch commands that did not parse or named an unknown action (alert on any)",
    ["service"],
)
KILLSWITCH_ENGAGED = Gauge(
    "optbus_killswitch_engaged", "1 while this service considers trading halted", ["service"]
)


def show_kill_switch(service: str, halted: bool) -> None:
    """The kill-switch gauge of ``service``: 1 while it considers trading halted."""
    KILLSWITCH_ENGAGED.labels(service).set(1 if halted else 0)
