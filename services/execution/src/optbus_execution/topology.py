"""The execution service on the bus: approved decisions, quotes and the operator's kill switch
in; orders, fills, positions and closed trades out."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from optbus import subjects
from optbus.events import ChainGreeks, Event, KillSwitchCommand, RiskDecision, VolatilityIndexTick
from optbus.runtime.topology import EventConsumer, Handle, History, ServiceTopology
from optbus_execution import handlers
from optbus_execution.engine import ExecutionEngine


def _on(handler: Callable[..., list[Event]]) -> Callable[[ExecutionEngine], Handle]:
    return lambda engine: partial(handler, engine=engine)


def _fold(engine: ExecutionEngine) -> Handle:
    return engine.fold


TOPOLOGY: ServiceTopology[ExecutionEngine] = ServiceTopology(
    service=handlers.SERVICE,
    consumers=(
        EventConsumer(
            "ANALYTICS",
            subjects.GREEKS_CHAINS,
            "execution-chains",
            ChainGreeks,
            _on(handlers.on_chain),
        ),
        EventConsumer("MD", "md.vix.>", "execution-vix", VolatilityIndexTick, _on(handlers.on_vix)),
        EventConsumer(
            "TRADING",
            "risk.decision.>",
            "execution-decisions",
            RiskDecision,
            _on(handlers.on_decision),
        ),
        EventConsumer(
            "CONTROL",
            subjects.KILLSWITCH,
            "execution-killswitch",
            KillSwitchCommand,
            _on(handlers.on_kill_switch),
            dead_letters="kill_switch",
        ),
    ),
    publishes=("exec.>", "strategy.intent.>"),
    clock="configured",
    start_at="new",
    history=History("TRADING", ("strategy.intent.>", "risk.decision.>", "exec.>"), _fold),
)
"""Close intents (``strategy.intent.>``): a flatten on the kill switch publishes them."""
