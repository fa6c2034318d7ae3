"""The market-data service on the bus: it consumes nothing and publishes market data."""

from __future__ import annotations

from optbus.runtime.topology import ServiceTopology

TOPOLOGY: ServiceTopology[None] = ServiceTopology(
    service="market-data", consumers=(), publishes=("md.>",), clock="wall"
)
