"""The execution service on the bus: approved decisions, quotes, the end of day and the
operator's kill switch in; orders, fills, positions, settlements and closed trades out."""

from __future__ import annotations

from functools import partial

from optbus import subjects
from optbus.chain_order import NewestChainsOnly
from optbus.events import (
    BrokerStateAdopted,
    ChainGreeks,
    EndOfDay,
    Event,
    KillSwitchCommand,
    KillSwitchEngaged,
    KillSwitchReleased,
    RiskDecision,
    VolatilityIndexTick,
)
from optbus.runtime.topology import Handler, History, ServiceTopology, event_consumer
from optbus_execution.engine import ExecutionEngine
from optbus_execution.handlers import on_engaged, on_kill_switch, on_released

SERVICE = "execution"


def _chains(engine: ExecutionEngine) -> Handler[ChainGreeks]:
    return NewestChainsOnly(engine.on_chain)


def _vix(engine: ExecutionEngine) -> Handler[VolatilityIndexTick]:
    return engine.on_vix


def _end_of_day(engine: ExecutionEngine) -> Handler[EndOfDay]:
    return engine.on_end_of_day


def _decisions(engine: ExecutionEngine) -> Handler[RiskDecision]:
    return engine.on_decision


def _commands(engine: ExecutionEngine) -> Handler[KillSwitchCommand]:
    return partial(on_kill_switch, engine=engine, service=SERVICE)


def _engagements(engine: ExecutionEngine) -> Handler[KillSwitchEngaged]:
    return partial(on_engaged, engine=engine, service=SERVICE)


def _releases(engine: ExecutionEngine) -> Handler[KillSwitchReleased]:
    return partial(on_released, engine=engine, service=SERVICE)


def _fold(engine: ExecutionEngine) -> Handler[Event]:
    return engine.fold


TOPOLOGY: ServiceTopology[ExecutionEngine] = ServiceTopology(
    service=SERVICE,
    consumers=(
        event_consumer(
            "ANALYTICS",
            subjects.GREEKS_CHAINS,
            "execution-chains",
            ChainGreeks,
            _chains,
        ),
        event_consumer("MD", "md.vix.>", "execution-vix", VolatilityIndexTick, _vix),
        event_consumer(
            "TRADING",
            "risk.decision.>",
            "execution-decisions",
            RiskDecision,
            _decisions,
        ),
        event_consumer("CONTROL", subjects.END_OF_DAY, "execution-eod", EndOfDay, _end_of_day),
        event_consumer(
            "CONTROL",
            subjects.KILLSWITCH,
            "execution-killswitch",
            KillSwitchCommand,
            _commands,
            dead_letters="kill_switch",
        ),
        event_consumer(
            "TRADING",
            subjects.RECONCILIATION_ADOPTED,
            "execution-adopted",
            BrokerStateAdopted,
            _fold,
        ),
        event_consumer(
            "CONTROL",
            subjects.KILLSWITCH_ENGAGED,
            "execution-engaged",
            KillSwitchEngaged,
            _engagements,
        ),
        event_consumer(
            "CONTROL",
            subjects.KILLSWITCH_RELEASED,
            "execution-released",
            KillSwitchReleased,
            _releases,
        ),
    ),
    publishes=(
        "exec.>",
        "strategy.intent.>",
        subjects.RECONCILIATION_KILLSWITCH,
    ),
    clock="configured",
    start_at="new",
    history=History("TRADING", ("strategy.intent.>", "risk.decision.>", "exec.>"), _fold),
)
"""Close intents (``strategy.intent.>``): a flatten on the kill switch publishes them. An
engage is taken from the operator's command on the plain subject itself, and from risk's
``KillSwitchEngaged`` (an operator's own subject); a release only from risk's decision.
On a broker venue, reconciliation engages the switch on its own subject
(``control.killswitch.reconciliation``) when the broker and the log differ."""
