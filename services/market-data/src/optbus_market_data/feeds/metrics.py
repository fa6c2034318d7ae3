"""Prometheus metrics of the broker feeds (``optbus_market_data_feed_*``).

Every label set a dashboard or alert reads is created at zero up front (a labelled counter has
no sample before its first increment, and ``increase()`` would miss that first one).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from optbus_market_data.feeds.registry import BROKER_SOURCES
from optbus_market_data.feeds.validation import DROP_REASONS

FEED_LATENCY = Histogram(
    "optbus_market_data_feed_latency_seconds",
    "From the exchange's timestamp of a snapshot's latest quote to its publication",
    ["broker"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RECONNECTS = Counter(
    "optbus_market_data_feed_reconnects_total", "Reconnections to the broker's stream", ["broker"]
)
GAPS = Counter(
    "optbus_market_data_feed_gaps_total", "Gaps in the broker's stream flagged after a drop",
    ["broker"],
)  # fmt: skip
DROPPED = Counter(
    "optbus_market_data_feed_dropped_total",
    "Quotes and frames dropped, by reason (the service's checks, or the adapter's frame reasons)",
    ["broker", "reason"],
)
STALE_CONTRACTS = Counter(
    "optbus_market_data_feed_stale_contracts_total",
    "Followed contracts that went stale (one per episode)",
    ["broker"],
)
SUBSCRIPTIONS = Gauge(
    "optbus_market_data_feed_subscriptions", "Instruments followed on the broker's stream",
    ["broker"],
)  # fmt: skip
INSTRUMENT_MISMATCHES = Counter(
    "optbus_market_data_feed_instrument_mismatches_total",
    "Disagreements of the broker's instrument master with optbus's contract data",
    ["broker"],
)

for _broker in BROKER_SOURCES:
    for _metric in (RECONNECTS, GAPS, STALE_CONTRACTS, SUBSCRIPTIONS, INSTRUMENT_MISMATCHES):
        _metric.labels(_broker)
    for _reason in DROP_REASONS:
        DROPPED.labels(_broker, _reason)
