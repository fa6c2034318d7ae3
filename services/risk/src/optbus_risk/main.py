"""Composition root of the risk service: pre-trade checks, monitoring and the kill switch."""

from __future__ import annotations

from pathlib import Path

import msgspec
import structlog
from faststream.asgi import AsgiFastStream
from prometheus_client import REGISTRY
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus.market import load_market_facts
from optbus.runtime.control_state import read_kill_switch
from optbus.runtime.metrics import show_kill_switch
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.runtime.wiring import LiveBus, PullTuning, pull_consumers
from optbus.span import latest_span_file
from optbus_risk.breaker_gauges import CircuitBreakerGauges
from optbus_risk.config import DEFAULT_CONFIG_PATH, load_risk_config
from optbus_risk.context import RiskEnv
from optbus_risk.engine import RiskEngine
from optbus_risk.killswitch import KillSwitchState, from_stored
from optbus_risk.state import RiskState
from optbus_risk.topology import TOPOLOGY

_log = structlog.get_logger()


class RiskSettings(ServiceSettings):
    """Settings of the risk service (``OPTBUS_RISK_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_RISK_", extra="ignore")

    config_file: Path = Field(default=DEFAULT_CONFIG_PATH, description="risk limits (TOML)")
    max_intent_age_ms: int | None = Field(
        default=None, gt=0, description="overrides the file's; a replay at N x real time needs N x"
    )
    batch_size: int = Field(default=64, ge=1, le=TOPOLOGY.delivery.max_ack_pending)
    span_dir: Path = Field(
        default=Path("span"),
        description="where `optbus import span` stores NSE SPAN files; the latest is loaded at "
        "start and used for margin on its business date",
    )
    release_operators: frozenset[str] | None = Field(
        default=None,
        description="overrides the file's: who may release the kill switch, a JSON list "
        '(["asha", "ravi"]); empty: anyone',
    )


def build_app(settings: RiskSettings) -> AsgiFastStream:
    """Wire the risk service: restore state from the log and the bucket, then consume."""
    broker = make_broker(settings)
    bus = LiveBus(broker, TOPOLOGY.service, TOPOLOGY.make_clock(settings.clock))
    config = load_risk_config(settings.config_file)
    if settings.max_intent_age_ms is not None:
        config = msgspec.structs.replace(config, max_intent_age_ms=settings.max_intent_age_ms)
    if settings.release_operators is not None:
        config = msgspec.structs.replace(config, release_operators=settings.release_operators)
    span = latest_span_file(settings.span_dir)
    env = RiskEnv(config=config, facts=load_market_facts(), clock=bus.clock, span=span)
    engine = RiskEngine(env, RiskState.initial(KillSwitchState.unknown("not read yet")))
    consumers = pull_consumers(TOPOLOGY, engine, bus, PullTuning(batch_size=settings.batch_size))

    async def restore() -> None:
        stored = await read_kill_switch(bus.jetstream())
        engine.state = RiskState.initial(from_stored(stored))
        TOPOLOGY.restore(engine, bus.clock, await bus.history(TOPOLOGY))
        show_kill_switch(TOPOLOGY.service, engine.state.kill_switch.halted)
        _log.info("state restored", kill_switch=engine.state.kill_switch.describe(),
                  span_file=span.business_date.isoformat() if span else None)  # fmt: skip

    breaker = CircuitBreakerGauges(lambda: engine.state.pnl, config, env.facts, bus.clock)

    async def export_breaker() -> None:
        REGISTRY.register(breaker)

    async def stop_exporting_breaker() -> None:
        REGISTRY.unregister(breaker)

    return create_app(
        TOPOLOGY, settings, broker, on_connected=[restore], consumers=consumers,
        on_ready=[export_breaker], on_stopping=[stop_exporting_breaker],
    )  # fmt: skip


def main() -> None:
    """Run the risk service until it is told to stop."""
    settings = RiskSettings()
    run_on_uvloop(serve(build_app(settings), settings))
