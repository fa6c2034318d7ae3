"""Composition root of the strategy service: the configured strategies on the bus."""

from __future__ import annotations

from pathlib import Path

import structlog
from faststream.asgi import AsgiFastStream
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus.market import load_market_facts
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.runtime.wiring import LiveBus, PullTuning, pull_consumers
from optbus.scoring import BaselineScorer
from optbus_strategy.config import default_strategies_path, load_strategies
from optbus_strategy.engine import StrategyEngine
from optbus_strategy.model_reload import ModelReloader
from optbus_strategy.topology import TOPOLOGY, StrategyDeps

_log = structlog.get_logger()


class StrategySettings(ServiceSettings):
    """Settings of the strategy service (``OPTBUS_STRATEGY_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_STRATEGY_", extra="ignore")

    strategies_file: Path = Field(default_factory=default_strategies_path)
    batch_size: int = Field(default=64, ge=1, le=TOPOLOGY.delivery.max_ack_pending)


def build_app(settings: StrategySettings) -> AsgiFastStream:
    """Wire the strategy service: rebuild positions from the log, then consume."""
    broker = make_broker(settings)
    bus = LiveBus(broker, TOPOLOGY.service, TOPOLOGY.make_clock(settings.clock))
    facts = load_market_facts()
    specs = load_strategies(settings.strategies_file, facts=facts)
    engine = StrategyEngine.from_specs(specs, BaselineScorer(), facts, bus.clock)
    reloader = ModelReloader(bus.jetstream, engine)
    deps = StrategyDeps(engine, reloader)
    consumers = pull_consumers(TOPOLOGY, deps, bus, PullTuning(batch_size=settings.batch_size))

    async def restore() -> None:
        TOPOLOGY.restore(deps, bus.clock, await bus.history(TOPOLOGY))
        await reloader.load_current()
        _log.info("state restored", strategies=[s.name for s in engine.strategies],
                  scorer=engine.scorer.version)  # fmt: skip

    return create_app(TOPOLOGY, settings, broker, on_connected=[restore], consumers=consumers)


def main() -> None:
    """Run the strategy service until it is told to stop."""
    settings = StrategySettings()
    run_on_uvloop(serve(build_app(settings), settings))
