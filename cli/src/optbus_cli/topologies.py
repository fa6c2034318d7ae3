"""Every service's declared topology, in the order of the flow of events: the one list the
NATS permissions, the docs' consumer tables and the CLI's checks read."""

from __future__ import annotations

from typing import Any

from optbus.runtime.topology import ServiceTopology
from optbus_backtest.wiring import PIPELINE
from optbus_market_data.topology import TOPOLOGY as MARKET_DATA
from optbus_persistence.topology import TOPOLOGY as PERSISTENCE
from optbus_trainer.topology import TOPOLOGY as TRAINER

TOPOLOGIES: tuple[ServiceTopology[Any], ...] = (MARKET_DATA, *PIPELINE, PERSISTENCE, TRAINER)
"""market-data, then the trading pipeline (greeks, strategy, risk, execution), then the
services that store and learn from what it did."""


def topology_of(service: str) -> ServiceTopology[Any]:
    """The declared topology of the service named ``service``."""
    for topology in TOPOLOGIES:
        if topology.service == service:
            return topology
    raise KeyError(f"no service {service!r}; there are {[t.service for t in TOPOLOGIES]}")
