"""Composition root of the execution service: the paper broker on the bus."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import structlog
from faststream.asgi import AsgiFastStream
from nats.js import JetStreamContext
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus import subjects
from optbus.clock import on_clock, service_clock
from optbus.codec import Decoder
from optbus.events import ChainGreeks, KillSwitchCommand, RiskDecision, VolatilityIndexTick
from optbus.market import load_market_facts
from optbus.runtime.bus import DeadLetterOffice, EventPublisher, KillSwitchDeadLetterOffice
from optbus.runtime.consumer import PullConsumer, PullConsumerSpec
from optbus.runtime.control_state import read_kill_switch
from optbus.runtime.dispatch import Dispatcher
from optbus.runtime.history import read_history
from optbus.runtime.metrics import KILLSWITCH_ENGAGED
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus_execution import handlers
from optbus_execution.config import PaperBrokerConfig, SlippageModel
from optbus_execution.engine import ExecutionEngine
from optbus_execution.paper import PaperBroker

SERVICE = handlers.SERVICE
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


TRADING_HISTORY = ("strategy.intent.>", "risk.decision.>", "exec.>")

_INPUTS: tuple[tuple[str, str, str, type[Any], Callable[..., Any]], ...] = (
    ("ANALYTICS", subjects.GREEKS_CHAINS, "execution-chains", ChainGreeks, handlers.on_chain),
    ("MD", "md.vix.>", "execution-vix", VolatilityIndexTick, handlers.on_vix),
    ("TRADING", "risk.decision.>", "execution-decisions", RiskDecision, handlers.on_decision),
    ("CONTROL", subjects.KILLSWITCH, "execution-killswitch", KillSwitchCommand,
     handlers.on_kill_switch),
)  # fmt: skip


def build_app(settings: ExecutionSettings) -> AsgiFastStream:
    """Wire the execution service: restore state from the log, then consume its inputs."""
    broker = make_broker(settings)
    clock = service_clock(settings.clock)
    paper, facts = broker_config(settings), load_market_facts()
    engine = ExecutionEngine(
        paper.execution(), PaperBroker(paper, facts, clock), clock, facts, halted=True
    )

    def jetstream() -> JetStreamContext:
        return broker.connection.jetstream()

    publisher = EventPublisher(jetstream, SERVICE)
    consumers = []
    for stream, subject, durable, event_type, handle in _INPUTS:
        office_type = (
            KillSwitchDeadLetterOffice if event_type is KillSwitchCommand else DeadLetterOffice
        )
        dispatcher = Dispatcher(
            service=SERVICE, consumer=durable, decoder=Decoder(event_type),
            handle=on_clock(partial(handle, engine=engine), clock), publisher=publisher,
            dead_letters=office_type(publisher, SERVICE, durable, clock),
        )  # fmt: skip
        spec = PullConsumerSpec(
            stream=stream,
            subject=subject,
            durable=durable,
            batch_size=settings.batch_size,
            from_start=False,
        )
        consumers.append(PullConsumer(lambda: broker.connection, spec, dispatcher, SERVICE))

    async def restore() -> None:
        engine.restore(await read_history(jetstream(), "TRADING", TRADING_HISTORY))
        state = await read_kill_switch(jetstream())
        engine.on_kill_switch(state.engaged, reason=state.reason)
        KILLSWITCH_ENGAGED.labels(SERVICE).set(1 if engine.halted else 0)
        _log.info("state restored", positions=len(engine.positions()), halted=engine.halted)

    return create_app(SERVICE, settings, broker, on_connected=[restore], consumers=consumers)


def main() -> None:
    """Run the execution service until it is told to stop."""
    settings = ExecutionSettings()
    run_on_uvloop(serve(build_app(settings), settings))
