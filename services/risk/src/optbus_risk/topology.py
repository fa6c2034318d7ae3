"""The risk service on the bus: intents, chains, execution events and the operator's kill
switch in; decisions, close intents and kill-switch events out."""

from __future__ import annotations

from functools import partial

from optbus import subjects
from optbus.chain_order import NewestChainsOnly
from optbus.events import ChainGreeks, Event, OrderIntent
from optbus.runtime.topology import (
    UNLIMITED,
    BatchConsumer,
    BatchHandler,
    ConsumerPorts,
    Handler,
    History,
    ServiceTopology,
    event_consumer,
)
from optbus_risk.commands import handle_commands
from optbus_risk.engine import RiskEngine

KILL_SWITCH_BACKOFF_SECONDS = (0.5, 1.0, 2.0)
"""Delays between deliveries of a kill-switch command that failed: short, as a halt waits on
them, and the last repeated for as long as it fails."""


def _intents(engine: RiskEngine) -> Handler[OrderIntent]:
    return engine.on_intent


def _chains(engine: RiskEngine) -> Handler[ChainGreeks]:
    return NewestChainsOnly(engine.on_chain)


def _executions(engine: RiskEngine) -> Handler[Event]:
    return engine.on_exec


def _fold(engine: RiskEngine) -> Handler[Event]:
    return engine.fold


def _commands(engine: RiskEngine, ports: ConsumerPorts) -> BatchHandler:
    return partial(handle_commands, engine=engine, ports=ports)


TOPOLOGY: ServiceTopology[RiskEngine] = ServiceTopology(
    service="risk",
    consumers=(
        event_consumer("TRADING", "strategy.intent.>", "risk-intents", OrderIntent, _intents),
        event_consumer("ANALYTICS", subjects.GREEKS_CHAINS, "risk-chains", ChainGreeks, _chains),
        event_consumer("TRADING", "exec.>", "risk-executions", Event, _executions),
        BatchConsumer(
            "CONTROL",
            subjects.CONTROL_ALL,
            "risk-killswitch",
            _commands,
            dead_letters="kill_switch",
            batch_size=16,
            # An operator's engage is never dropped: one whose state cannot be stored (the
            # bucket's stream refusing writes, its leader lost) is retried until it is applied,
            # every 2 s at most, not parked after the service's ten deliveries (a quarter of an
            # hour). A command that does not parse is parked at once by the handler.
            max_deliver=UNLIMITED,
            backoff_seconds=KILL_SWITCH_BACKOFF_SECONDS,
        ),
    ),
    publishes=(
        "risk.>",
        "strategy.intent.>",
        subjects.KILLSWITCH_ENGAGED,
        subjects.KILLSWITCH_RELEASED,
    ),
    clock="market",
    start_at="new",
    history=History("TRADING", ("risk.decision.>", "exec.>"), _fold),
)
"""Close intents (``strategy.intent.>``): the position monitor and a flatten publish them."""
