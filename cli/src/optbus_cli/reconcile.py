"""``optbus reconcile``: the broker's positions and open orders beside the event log's.

The log's side is execution's own state, restored from the TRADING stream exactly as the
service restores it at start; the broker's side is read through the configured venue's order
adapter (reading needs no live-trading switch: nothing is sent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import nats

from optbus.clock import LiveClock
from optbus.codec import encode
from optbus.events import Contract
from optbus.market import load_market_facts
from optbus.routing import subject_of
from optbus.runtime.history import read_history
from optbus_brokers.orders import BrokerPosition
from optbus_execution.broker_venue import InstrumentIndex
from optbus_execution.config import PaperBrokerConfig
from optbus_execution.engine import ExecutionEngine
from optbus_execution.live import broker_adapters
from optbus_execution.live_link import broker_differences
from optbus_execution.paper import PaperBroker
from optbus_execution.reconcile import Difference, adoption
from optbus_execution.topology import TOPOLOGY


async def log_state(nats_url: str) -> ExecutionEngine:
    """Execution's state as the event log has it (the restore the service does at start)."""
    clock, facts = LiveClock(), load_market_facts()
    paper = PaperBrokerConfig(algo_id="OPTBUS-RECONCILE")
    engine = ExecutionEngine(paper.execution(), PaperBroker(paper, facts, clock), clock, facts)
    history = TOPOLOGY.history
    assert history is not None
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=1)
    try:
        events = await read_history(nc.jetstream(), history.stream, history.subjects)
    finally:
        await nc.close()
    TOPOLOGY.restore(engine, clock, events)
    return engine


@dataclass(frozen=True, slots=True)
class Comparison:
    """The broker's positions and what the broker and the log disagree on."""

    held: list[BrokerPosition]
    differences: list[Difference]
    contract_of: Callable[[str], Contract | None]


async def compare(venue: str, nats_url: str) -> Comparison:
    """Read the broker named ``venue`` and the event log, and compare them."""
    adapters = broker_adapters(venue)
    clock = LiveClock()
    broker, feed = adapters.orders(clock), adapters.feed(clock)
    await broker.login()
    await feed.login()
    index = InstrumentIndex(await feed.load_instruments())
    engine = await log_state(nats_url)
    # This process placed none of the orders: the broker's tags are mapped back to their ids.
    broker.remember(order.client_order_id for order in engine.working_orders())
    found = await broker_differences(broker, engine, index.contract)
    return Comparison(await broker.positions(), found, index.contract)


async def adopt(comparison: Comparison, audit: tuple[str, str, str], nats_url: str) -> str:
    """Publish the adoption of the broker's positions (an audited event execution folds and
    persistence stores); returns its event id."""
    event = adoption(
        comparison.held, comparison.differences, comparison.contract_of, audit,
        LiveClock().now_ns(),
    )  # fmt: skip
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=1)
    try:
        await nc.jetstream().publish(subject_of(event), encode(event))
    finally:
        await nc.close()
    return event.event_id
