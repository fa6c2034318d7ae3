"""Composition root of the execution service: the paper broker (or, live, a broker) on the bus."""

from __future__ import annotations

import structlog
from faststream.asgi import AsgiFastStream
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus.market import load_market_facts
from optbus.runtime.control_state import read_kill_switch
from optbus.runtime.metrics import show_kill_switch
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.runtime.wiring import LiveBus, PullTuning, pull_consumers
from optbus_execution.config import PaperBrokerConfig, SlippageModel
from optbus_execution.engine import ExecutionEngine
from optbus_execution.live import (
    LiveTradingSettings,
    VenueName,
    VenueUnusable,
    live_trading_refusal,
    orders_factory,
)
from optbus_execution.paper import PaperBroker
from optbus_execution.topology import TOPOLOGY

_log = structlog.get_logger()
_NS_PER_MS = 1_000_000


class ExecutionSettings(ServiceSettings):
    """Settings of the execution service (``OPTBUS_EXECUTION_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_EXECUTION_", extra="ignore")

    algo_id: str = Field(default="OPTBUS-PAPER-1", min_length=1)
    latency_ms: float = Field(default=200.0, ge=0)
    max_quote_age_ms: float = Field(default=5_000.0, gt=0)
    slippage_spread_fraction: float = Field(default=0.0, ge=0)
    slippage_size_impact: float = Field(default=0.5, ge=0)
    brokerage_per_order: float | None = Field(default=None, ge=0)
    batch_size: int = Field(default=64, ge=1)
    venue: VenueName = Field(
        default="paper", description="paper, or a broker (live only with OPTBUS_LIVE_TRADING=yes)"
    )


def broker_config(settings: ExecutionSettings) -> PaperBrokerConfig:
    """The paper broker's configuration from the service settings."""
    return PaperBrokerConfig(
        algo_id=settings.algo_id,
        latency_ns=int(settings.latency_ms * _NS_PER_MS),
        max_quote_age_ns=int(settings.max_quote_age_ms * _NS_PER_MS),
        slippage=SlippageModel(
            spread_fraction=settings.slippage_spread_fraction,
            size_impact=settings.slippage_size_impact,
        ),
        brokerage_per_order=settings.brokerage_per_order,
    )


def build_app(settings: ExecutionSettings) -> AsgiFastStream:
    """Wire the execution service: restore state from the log, then consume its inputs."""
    broker = make_broker(settings)
    bus = LiveBus(broker, TOPOLOGY.service, TOPOLOGY.make_clock(settings.clock))
    paper, facts = broker_config(settings), load_market_facts()
    engine = ExecutionEngine(
        paper.execution(), PaperBroker(paper, facts, bus.clock), bus.clock, facts, halted=True
    )
    consumers = pull_consumers(TOPOLOGY, engine, bus, PullTuning(batch_size=settings.batch_size))

    async def restore() -> None:
        TOPOLOGY.restore(engine, bus.clock, await bus.history(TOPOLOGY))
        state = await read_kill_switch(bus.jetstream())
        engine.on_kill_switch(state.engaged, reason=state.reason)
        show_kill_switch(TOPOLOGY.service, engine.halted)
        _log.info("state restored", positions=len(engine.positions()), halted=engine.halted)

    return create_app(TOPOLOGY, settings, broker, on_connected=[restore], consumers=consumers)


def check_venue(settings: ExecutionSettings, live: LiveTradingSettings) -> None:
    """Refuse to start (exit non-zero, saying why) on a broker venue without the live-trading
    switch or without its adapter; with both, say loudly that real money is at stake."""
    refusal = live_trading_refusal(settings.venue, live.live_trading)
    if refusal is not None:
        raise SystemExit(f"execution: refusing to start: {refusal}")
    if settings.venue == "paper":
        return
    try:
        orders_factory(settings.venue)
    except VenueUnusable as exc:
        raise SystemExit(f"execution: refusing to start: {exc}") from exc
    _log.warning(
        "LIVE TRADING: orders go to the broker and trade real money",
        venue=settings.venue,
        algo_id=settings.algo_id,
    )


def main() -> None:
    """Run the execution service until it is told to stop."""
    settings = ExecutionSettings()
    check_venue(settings, LiveTradingSettings())
    run_on_uvloop(serve(build_app(settings), settings))
