"""The strategy service on the bus: chains, VIX, positions and decisions in; signals and
intents out; promoted models hot-reloaded."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from optbus import subjects
from optbus.chain_order import NewestChainsOnly
from optbus.events import Event
from optbus.runtime.topology import (
    BatchConsumer,
    BatchHandler,
    ConsumerPorts,
    Handler,
    History,
    ServiceTopology,
    event_consumer,
)
from optbus_strategy.engine import StrategyEngine
from optbus_strategy.model_reload import ModelReloader


@dataclass(frozen=True, slots=True)
class StrategyDeps:
    """The strategies' engine, and the reloader that swaps its scorer (live only)."""

    engine: StrategyEngine
    reloader: ModelReloader | None = None


def _engine(deps: StrategyDeps) -> Handler[Event]:
    return deps.engine.handle


def _chains(deps: StrategyDeps) -> Handler[Event]:
    return NewestChainsOnly(deps.engine.handle)


def _promotions(deps: StrategyDeps, ports: ConsumerPorts) -> BatchHandler:
    if deps.reloader is None:
        raise ValueError("the model consumer needs a ModelReloader")
    return partial(deps.reloader.on_promotions, dead_letters=ports.dead_letters)


TOPOLOGY: ServiceTopology[StrategyDeps] = ServiceTopology(
    service="strategy",
    consumers=(
        event_consumer("ANALYTICS", subjects.GREEKS_CHAINS, "strategy-chains", Event, _chains),
        event_consumer("MD", "md.vix.>", "strategy-vix", Event, _engine),
        event_consumer("TRADING", "exec.position.>", "strategy-positions", Event, _engine),
        event_consumer("TRADING", "risk.decision.>", "strategy-decisions", Event, _engine),
        BatchConsumer(
            "MODELS", subjects.MODEL_PROMOTED, "strategy-models", _promotions, batch_size=10
        ),
    ),
    publishes=("strategy.>",),
    clock="market",
    start_at="new",
    history=History("TRADING", ("exec.position.>", "risk.decision.>"), _engine),
)
