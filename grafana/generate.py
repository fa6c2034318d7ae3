"""Grafana dashboards as code: writes grafana/dashboards/*.json (run by `make dashboards`).

The metric names come from the code that defines the metrics, and the list of services from the
``optbus`` command, so a renamed metric or a new service shows up here as a diff. The committed
JSON is what Grafana loads (grafana/provisioning/dashboards); a test fails when it is stale.

    uv run python grafana/generate.py            # write
    uv run python grafana/generate.py --check    # exit 1 if a committed file differs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from panels import RATE, graph, metric, number, quantiles, query, thresholds
from runtime_rows import consumers_row, resources_row
from trader import trader

from optbus.events import (
    CircuitBreakerTripped,
    Fill,
    KillSwitchEngaged,
    KillSwitchReleased,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderIntent,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
    Signal,
    TradeClosed,
)
from optbus.runtime.metrics import (
    DEAD_LETTERS,
    EVENTS_PUBLISHED,
    HANDLER_SECONDS,
    KILLSWITCH_ENGAGED,
    KILLSWITCH_INVALID_COMMANDS,
    MESSAGES_HANDLED,
)
from optbus_cli.commands.services import SERVICES
from optbus_greeks.handlers import CHAIN_PRICING_SECONDS
from optbus_market_data.feeds import metrics as feed

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"
HANDLED = metric(MESSAGES_HANDLED, "_total")
PUBLISHED = metric(EVENTS_PUBLISHED, "_total")
DLQ = metric(DEAD_LETTERS, "_total")
HANDLER_BUCKET = metric(HANDLER_SECONDS, "_bucket")
PRICING_BUCKET = metric(CHAIN_PRICING_SECONDS, "_bucket")
ENGAGED = metric(KILLSWITCH_ENGAGED)
INVALID_COMMANDS = metric(KILLSWITCH_INVALID_COMMANDS, "_total")
TRADING_SERVICES = ("strategy", "risk", "execution")
KILLSWITCH_SERVICES = ("risk", "execution")
"""The services that export ``optbus_killswitch_engaged`` (they act on the kill switch)."""


def services_up() -> Any:
    """One tile per service: how many of its instances Prometheus scrapes; 0 reads DOWN."""
    panel = (
        number(
            "Service up",
            "Instances of each service that answer Prometheus's scrape of /metrics (`up`), "
            "0 when none does or none is found.",
            12,
        )
        .mappings(
            [model.ValueMap(options={"0": model.ValueMappingResult(text="DOWN", color="red")})]
        )
        .thresholds(thresholds((None, "red"), (1, "green")))
        .decimals(0)
    )
    for index, service in enumerate(SERVICES):
        ref = chr(ord("A") + index)
        panel = panel.with_target(query(f'sum(up{{job="{service}"}}) or vector(0)', service, ref))
    return panel


def health_row(dash: db.Dashboard) -> db.Dashboard:
    """Is everything running, and is anything being parked?"""
    dead_letters = (
        number(
            "Dead letters in range",
            f"Messages parked on dlq.> in the selected time range ({DLQ}). Anything above 0 "
            "needs a look: see docs/operations.md, 'Dead letters'.",
            6,
        )
        .with_target(query(f"sum(increase({DLQ}[$__range])) or vector(0)", "dead letters"))
        .thresholds(thresholds((None, "green"), (1, "red")))
        .decimals(0)
    )
    published = (
        number(
            "Events published / s",
            f"All events stored by JetStream per second, every service ({PUBLISHED}).",
            6,
        )
        .with_target(query(f"sum(rate({PUBLISHED}[{RATE}])) or vector(0)", "events/s"))
        .thresholds(thresholds((None, "blue")))
        .unit("suffix: ev/s")
        .color_mode(common.BigValueColorMode.VALUE)
    )
    return (
        dash.with_row(db.Row("Health"))
        .with_panel(services_up())
        .with_panel(dead_letters)
        .with_panel(published)
    )


def flow_row(dash: db.Dashboard) -> db.Dashboard:
    """What moves through the bus: handled messages, published events, dead letters."""
    handled = graph(
        "Messages handled / s by service and outcome",
        f"{HANDLED}: ok = stored or processed and acked; retried = nak'd to come again (the "
        "database was down); dead_lettered = parked on dlq.> and terminated.",
        "suffix: msg/s",
        [
            query(
                f"sum by (service, outcome) (rate({HANDLED}[{RATE}]))",
                "{{service}} {{outcome}}",
            )
        ],
    )
    published = graph(
        "Events published / s by type",
        f"Events stored by JetStream, by event type and publishing service ({PUBLISHED}).",
        "suffix: ev/s",
        [query(f"sum by (service, type) (rate({PUBLISHED}[{RATE}]))", "{{type}} ({{service}})")],
    )
    dead = graph(
        "Dead letters / s by consumer",
        f"Messages a consumer could not decode or process, parked on dlq.<subject> ({DLQ}).",
        "suffix: msg/s",
        [query(f"sum by (service, consumer) (rate({DLQ}[{RATE}]))", "{{service}}/{{consumer}}")],
        span=24,
        height=6,
    )
    return dash.with_row(db.Row("Flow")).with_panel(handled).with_panel(published).with_panel(dead)


def latency_row(dash: db.Dashboard) -> db.Dashboard:
    """How long handling takes: per batch, and per chain for the pricing itself."""
    handler = graph(
        "Handler latency p50 / p99",
        f"Time to handle one message or batch, by service and consumer ({HANDLER_SECONDS}).",
        "s",
        quantiles(HANDLER_BUCKET, ("service", "consumer"), "{{service}}/{{consumer}}"),
    )
    pricing = graph(
        "Greeks chain pricing time p50 / p99",
        "Time to price one whole chain: forward, implied volatilities, Greeks and aggregates "
        f"({metric(CHAIN_PRICING_SECONDS)}).",
        "s",
        quantiles(PRICING_BUCKET, (), ""),
    )
    return dash.with_row(db.Row("Latency")).with_panel(handler).with_panel(pricing)


def feed_row(dash: db.Dashboard) -> db.Dashboard:
    """A broker feed's health: latency from the exchange, drops, reconnects, gaps, staleness."""
    latency = graph(
        "Broker feed latency p50 / p99",
        "From the exchange's timestamp of a snapshot's latest quote to its publication, by "
        f"broker ({metric(feed.FEED_LATENCY)}).",
        "s",
        quantiles(metric(feed.FEED_LATENCY, "_bucket"), ("broker",), "{{broker}}"),
    )
    dropped_total = metric(feed.DROPPED, "_total")
    dropped = graph(
        "Broker quotes and frames dropped",
        "Quotes that failed validation and frames the adapter could not decode, by broker and "
        f"reason ({dropped_total}); docs/brokers.md lists the reasons.",
        "short",
        [
            query(
                f"sum by (broker, reason) (increase({dropped_total}[{RATE}]))",
                "{{broker}} {{reason}}",
            )
        ],
    )
    episodes = graph(
        "Broker reconnects, gaps and stale contracts",
        "Reconnection attempts, gaps flagged after a drop, and contracts that went stale.",
        "short",
        [
            query(
                f"sum by (broker) (increase({metric(counter, '_total')}[{RATE}]))",
                f"{{{{broker}}}} {name}",
                ref,
            )
            for counter, name, ref in (
                (feed.RECONNECTS, "reconnects", "A"),
                (feed.GAPS, "gaps", "B"),
                (feed.STALE_CONTRACTS, "stale", "C"),
            )
        ],
    )
    followed = graph(
        "Broker subscriptions",
        f"Instruments followed on each broker's stream ({metric(feed.SUBSCRIPTIONS)}).",
        "short",
        [query(f"sum by (broker) ({metric(feed.SUBSCRIPTIONS)})", "{{broker}}")],
    )
    return (
        dash.with_row(db.Row("Broker feed"))
        .with_panel(latency)
        .with_panel(dropped)
        .with_panel(episodes)
        .with_panel(followed)
    )


def pipeline() -> db.Dashboard:
    """The 'optbus pipeline' dashboard."""
    dash = (
        db.Dashboard("optbus pipeline")
        .uid("optbus-pipeline")
        .description(
            "The optbus services: health, message flow, dead letters, latency, broker feeds, "
            "consumer lag, resources and dependencies."
        )
        .tags(["optbus", "generated"])
        .readonly()
        .timezone("browser")
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(db.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )
    return resources_row(consumers_row(feed_row(latency_row(flow_row(health_row(dash))))))


def _types(*events: type) -> str:
    """A label matcher on the event type, e.g. ``type=~"Order|Fill"``."""
    return 'type=~"' + "|".join(event.__name__ for event in events) + '"'


def _published_by_type(*events: type) -> prometheus.Dataquery:
    return query(
        f"sum by (service, type) (rate({PUBLISHED}{{{_types(*events)}}}[{RATE}]))",
        "{{type}} ({{service}})",
    )


def kill_switch_row(dash: db.Dashboard) -> db.Dashboard:
    """Is trading halted, does every service agree, and did anyone send a bad command?"""
    engaged = (
        number(
            "Kill switch",
            f"{ENGAGED} of each service that acts on the kill switch: HALTED while it considers "
            "trading halted (engaged, or its state could not be read: it fails closed). Risk and "
            "execution must agree. `optbus killswitch status` says who engaged it and why.",
            12,
        )
        .mappings(
            [
                model.ValueMap(
                    options={
                        "0": model.ValueMappingResult(text="trading", color="green"),
                        "1": model.ValueMappingResult(text="HALTED", color="red"),
                    }
                )
            ]
        )
        .thresholds(thresholds((None, "green"), (1, "red")))
        .decimals(0)
    )
    for index, service in enumerate(KILLSWITCH_SERVICES):
        engaged = engaged.with_target(
            query(f'max({ENGAGED}{{service="{service}"}})', service, chr(ord("A") + index))
        )
    invalid = (
        number(
            "Invalid kill-switch commands in range",
            f"Commands on control.killswitch that did not parse or named an unknown action "
            f"({INVALID_COMMANDS}): parked on dlq.control.killswitch and IGNORED. Anything "
            "above 0 pages (alert OptbusKillSwitchInvalidCommand): see docs/operations.md, "
            "'Kill switch'.",
            12,
        )
        .with_target(
            query(f"sum(increase({INVALID_COMMANDS}[$__range])) or vector(0)", "invalid commands")
        )
        .thresholds(thresholds((None, "green"), (1, "red")))
        .decimals(0)
    )
    history = graph(
        "Kill switch engaged by service",
        f"{ENGAGED}: 1 while the service considers trading halted.",
        "none",
        [query(f"max by (service) ({ENGAGED})", "{{service}}")],
        span=12,
        height=6,
    )
    invalid_rate = graph(
        "Invalid kill-switch commands by service",
        f"Invalid commands counted by each service that read them ({INVALID_COMMANDS}).",
        "short",
        [query(f"sum by (service) (increase({INVALID_COMMANDS}[{RATE}]))", "{{service}}")],
        span=12,
        height=6,
    )
    return (
        dash.with_row(db.Row("Kill switch"))
        .with_panel(engaged)
        .with_panel(invalid)
        .with_panel(history)
        .with_panel(invalid_rate)
    )


def trading_flow_row(dash: db.Dashboard) -> db.Dashboard:
    """From signal to fill: what each trading service published."""
    decisions = graph(
        "Signals, intents and decisions / s",
        f"Strategy's signals and order intents (close intents come from risk's monitor and "
        f"execution's flatten too), risk's decisions and circuit breakers ({PUBLISHED}).",
        "suffix: ev/s",
        [_published_by_type(Signal, OrderIntent, RiskDecision, CircuitBreakerTripped)],
    )
    orders = graph(
        "Orders and fills / s",
        f"The paper broker's orders, their acceptances, rejections and cancellations, and the "
        f"fills ({PUBLISHED}).",
        "suffix: ev/s",
        [_published_by_type(Order, OrderAccepted, OrderRejected, OrderCancelled, Fill)],
    )
    positions = graph(
        "Positions and closed trades / s",
        f"Positions opened, updated and closed, and round trips closed ({PUBLISHED}).",
        "suffix: ev/s",
        [_published_by_type(PositionOpened, PositionUpdated, PositionClosed, TradeClosed)],
    )
    switches = graph(
        "Kill-switch events in range",
        f"Engagements and releases risk applied ({PUBLISHED}).",
        "short",
        [
            query(
                f"sum by (type) (increase({PUBLISHED}"
                f"{{{_types(KillSwitchEngaged, KillSwitchReleased)}}}[$__range]))",
                "{{type}}",
            )
        ],
    )
    return (
        dash.with_row(db.Row("Trading flow"))
        .with_panel(decisions)
        .with_panel(orders)
        .with_panel(positions)
        .with_panel(switches)
    )


def trading_services_row(dash: db.Dashboard) -> db.Dashboard:
    """How the trading services' consumers keep up."""
    services = "|".join(TRADING_SERVICES)
    handled = graph(
        "Trading consumers: messages handled / s",
        f"{HANDLED} of strategy, risk and execution, by consumer and outcome.",
        "suffix: msg/s",
        [
            query(
                f'sum by (service, consumer, outcome) (rate({HANDLED}{{service=~"{services}"}}'
                f"[{RATE}]))",
                "{{consumer}} {{outcome}}",
            )
        ],
    )
    latency = graph(
        "Trading consumers: handler latency p99",
        f"Time to handle one batch, by consumer ({HANDLER_SECONDS}).",
        "s",
        [
            query(
                f"histogram_quantile(0.99, sum by (service, consumer, le) "
                f'(rate({HANDLER_BUCKET}{{service=~"{services}"}}[{RATE}])))',
                "p99 {{consumer}}",
            )
        ],
    )
    return dash.with_row(db.Row("Trading services")).with_panel(handled).with_panel(latency)


def trading() -> db.Dashboard:
    """The 'optbus trading' dashboard."""
    dash = (
        db.Dashboard("optbus trading")
        .uid("optbus-trading")
        .description("Strategy, risk and execution: the kill switch, signals to fills.")
        .tags(["optbus", "generated", "trading"])
        .readonly()
        .timezone("browser")
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(db.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )
    return trading_services_row(trading_flow_row(kill_switch_row(dash)))


def dashboards() -> dict[str, db.Dashboard]:
    """Every generated dashboard, by file name."""
    return {
        "optbus-pipeline.json": pipeline(),
        "optbus-trading.json": trading(),
        "optbus-trader.json": trader(),
    }


def render(dash: db.Dashboard) -> str:
    """The dashboard as stable, sorted JSON with a final newline."""
    built = dash.build()
    for number_, panel in enumerate(built.panels or [], start=1):
        panel.id_val = number_
    return JSONEncoder(sort_keys=True, indent=2).encode(built) + "\n"


def rendered() -> dict[Path, str]:
    """What each dashboard file should contain."""
    return {DASHBOARDS_DIR / name: render(dash) for name, dash in dashboards().items()}


def main(argv: list[str] | None = None) -> int:
    """Write the dashboards, or with --check report the stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args(argv)
    stale = [path for path, text in rendered().items() if _read(path) != text]
    if args.check:
        for path in stale:
            print(f"stale: {path} (run `make dashboards`)", file=sys.stderr)
        return 1 if stale else 0
    DASHBOARDS_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


if __name__ == "__main__":
    sys.exit(main())
