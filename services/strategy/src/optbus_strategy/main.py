"""Composition root of the strategy service: the configured strategies on the bus."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

import structlog
from faststream.asgi import AsgiFastStream
from nats.js import JetStreamContext
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus import subjects
from optbus.clock import EventClock
from optbus.codec import Decoder
from optbus.events import BusEvent, Event
from optbus.market import load_market_facts
from optbus.runtime.bus import DeadLetterOffice, EventPublisher
from optbus.runtime.consumer import PullConsumer, PullConsumerSpec
from optbus.runtime.dispatch import Dispatcher
from optbus.runtime.history import read_history
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.scoring import BaselineScorer
from optbus_strategy.config import default_strategies_path, load_strategies
from optbus_strategy.engine import StrategyEngine
from optbus_strategy.model_reload import ModelReloader

SERVICE = "strategy"
_log = structlog.get_logger()

_INPUTS = (
    ("ANALYTICS", subjects.GREEKS_CHAINS, "strategy-chains"),
    ("MD", "md.vix.>", "strategy-vix"),
    ("TRADING", "exec.position.>", "strategy-positions"),
    ("TRADING", "risk.decision.>", "strategy-decisions"),
)
HISTORY = ("exec.position.>", "risk.decision.>")
MODELS_INPUT = ("MODELS", subjects.MODEL_PROMOTED, "strategy-models")
"""Promotions, for the hot reload of the scorer (handled apart from the engine's inputs)."""


class StrategySettings(ServiceSettings):
    """Settings of the strategy service (``OPTBUS_STRATEGY_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_STRATEGY_", extra="ignore")

    strategies_file: Path = Field(default_factory=default_strategies_path)
    batch_size: int = Field(default=64, ge=1)


def handle(event: Event, engine: StrategyEngine, clock: EventClock) -> Sequence[Event]:
    """One event in, the signals and intents it causes out (on market time)."""
    clock.observe(event.ts_event)
    return engine.handle(event)


def build_app(settings: StrategySettings) -> AsgiFastStream:
    """Wire the strategy service: rebuild positions from the log, then consume."""
    broker = make_broker(settings)
    clock = EventClock()
    facts = load_market_facts()
    specs = load_strategies(settings.strategies_file, facts=facts)
    engine = StrategyEngine.from_specs(specs, BaselineScorer(), facts, clock)

    def jetstream() -> JetStreamContext:
        return broker.connection.jetstream()

    publisher = EventPublisher(jetstream, SERVICE)
    decoder: Decoder[Event] = Decoder(BusEvent)  # type: ignore[arg-type]
    consumers = []
    for stream, subject, durable in _INPUTS:
        dispatcher = Dispatcher(
            service=SERVICE, consumer=durable, decoder=decoder,
            handle=partial(handle, engine=engine, clock=clock), publisher=publisher,
            dead_letters=DeadLetterOffice(publisher, SERVICE, durable, clock),
        )  # fmt: skip
        spec = PullConsumerSpec(stream=stream, subject=subject, durable=durable,
                                batch_size=settings.batch_size, from_start=False)  # fmt: skip
        consumers.append(PullConsumer(lambda: broker.connection, spec, dispatcher, SERVICE))

    stream, subject, durable = MODELS_INPUT
    reloader = ModelReloader(
        jetstream, engine, DeadLetterOffice(publisher, SERVICE, durable, clock)
    )
    spec = PullConsumerSpec(stream=stream, subject=subject, durable=durable, batch_size=10,
                            from_start=False)  # fmt: skip
    consumers.append(PullConsumer(lambda: broker.connection, spec, reloader, SERVICE))

    async def restore() -> None:
        for event in await read_history(jetstream(), "TRADING", HISTORY):
            handle(event, engine, clock)
        await reloader.load_current()
        _log.info("state restored", strategies=[s.name for s in engine.strategies],
                  scorer=engine.scorer.version)  # fmt: skip

    return create_app(SERVICE, settings, broker, on_connected=[restore], consumers=consumers)


def main() -> None:
    """Run the strategy service until it is told to stop."""
    settings = StrategySettings()
    run_on_uvloop(serve(build_app(settings), settings))
