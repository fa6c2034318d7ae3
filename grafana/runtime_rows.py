"""Rows of the pipeline dashboard on what each process needs to keep up: its consumers' lag,
its CPU and memory, and the health of NATS and the database as it sees them."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from panels import RATE, graph, metric, query

from optbus.runtime import metrics as runtime
from optbus_cli.commands.services import SERVICES

CONSUMER_PENDING = metric(runtime.CONSUMER_PENDING)
CONSUMER_ACK_PENDING = metric(runtime.CONSUMER_ACK_PENDING)
DEPENDENCY_UP = metric(runtime.DEPENDENCY_UP)
"""The runtime's lag and dependency gauges, as every service exports them."""
PROCESS_CPU = "process_cpu_seconds_total"
PROCESS_MEMORY = "process_resident_memory_bytes"
"""prometheus_client's process collector, in every service's registry."""
SERVICE_JOBS = 'job=~"' + "|".join(SERVICES) + '"'
"""Prometheus's scrape jobs of the services (one per service, deploy/prometheus)."""


def consumers_row(dash: db.Dashboard) -> db.Dashboard:
    """Is a consumer falling behind, or holding messages it does not ack?"""
    pending = graph(
        "Consumer lag: messages not yet delivered",
        f"Each durable consumer's pending count ({CONSUMER_PENDING}): messages on its subjects "
        "the service has not received yet. Growing means the service does not keep up.",
        "short",
        [query(f"max by (service, consumer) ({CONSUMER_PENDING})", "{{service}}/{{consumer}}")],
    )
    ack_pending = graph(
        "Consumer lag: delivered, not acknowledged",
        f"Messages delivered and not acked yet ({CONSUMER_ACK_PENDING}): a batch in flight, or "
        "a handler stuck (the database down for persistence).",
        "short",
        [query(f"max by (service, consumer) ({CONSUMER_ACK_PENDING})", "{{service}}/{{consumer}}")],
    )
    return dash.with_row(db.Row("Consumers")).with_panel(pending).with_panel(ack_pending)


def resources_row(dash: db.Dashboard) -> db.Dashboard:
    """CPU, memory, and whether each service reaches NATS and the database."""
    cpu = graph(
        "Process CPU by service",
        f"CPU seconds per second of each service's processes ({PROCESS_CPU}): 1 is one core.",
        "percentunit",
        [query(f"sum by (job) (rate({PROCESS_CPU}{{{SERVICE_JOBS}}}[{RATE}]))", "{{job}}")],
        span=8,
    )
    memory = graph(
        "Resident memory by service",
        f"Resident set size of the largest instance of each service ({PROCESS_MEMORY}).",
        "bytes",
        [query(f"max by (job) ({PROCESS_MEMORY}{{{SERVICE_JOBS}}})", "{{job}}")],
        span=8,
    )
    dependencies = graph(
        "NATS and database health",
        f"1 while a service's last check of a dependency passed ({DEPENDENCY_UP}); 0 means it "
        "cannot reach NATS or the database (the trading services then halt).",
        "none",
        [query(f"min by (service, dependency) ({DEPENDENCY_UP})", "{{service}} → {{dependency}}")],
        span=8,
    )
    return (
        dash.with_row(db.Row("Resources and dependencies"))
        .with_panel(cpu)
        .with_panel(memory)
        .with_panel(dependencies)
    )
