"""The greeks service on the bus: chain snapshots in, priced chains out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from optbus import subjects
from optbus.clock import Clock
from optbus.events import OptionChainSnapshot
from optbus.runtime.topology import Delivery, Handler, ServiceTopology, event_consumer
from optbus_greeks.domain import GreeksConfig
from optbus_greeks.handlers import price_snapshot


@dataclass(frozen=True, slots=True)
class GreeksDeps:
    """What pricing a chain needs: the rate and expiry closes, and the clock."""

    config: GreeksConfig
    clock: Clock


def _pricing(deps: GreeksDeps) -> Handler[OptionChainSnapshot]:
    return partial(price_snapshot, config=deps.config, clock=deps.clock)


TOPOLOGY: ServiceTopology[GreeksDeps] = ServiceTopology(
    service="greeks",
    consumers=(event_consumer("MD", subjects.MD_CHAINS, "greeks", OptionChainSnapshot, _pricing),),
    publishes=("greeks.>",),
    clock="configured",
    # Eight default batches (64) in flight, across the replicas.
    delivery=Delivery(max_ack_pending=8 * 64),
)
