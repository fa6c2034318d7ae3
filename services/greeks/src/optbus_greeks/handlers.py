"""The greeks handler: one snapshot in, the same chain with IVs, Greeks and aggregates out."""

from __future__ import annotations

import time

from prometheus_client import Histogram

from optbus.clock import Clock
from optbus.events import Event, OptionChainSnapshot
from optbus_greeks.domain import GreeksConfig, enrich_chain

CHAIN_PRICING_SECONDS = Histogram(
    "optbus_greeks_chain_pricing_seconds",
    "Time to price one whole chain: forward, IVs, Greeks and aggregates",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
)


def price_snapshot(
    snapshot: OptionChainSnapshot, config: GreeksConfig, clock: Clock
) -> list[Event]:
    """Price a snapshot's whole chain, timing it for the pricing histogram."""
    started = time.perf_counter()
    chain = enrich_chain(snapshot, config, clock)
    CHAIN_PRICING_SECONDS.observe(time.perf_counter() - started)
    return [chain]
