"""Composition root of the greeks service."""

from __future__ import annotations

import asyncio

from faststream.asgi import AsgiFastStream
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus.market import load_market_facts
from optbus.pricing import compile_kernels
from optbus.rates import DatedRate
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.runtime.wiring import LiveBus, PullTuning, pull_consumers
from optbus_greeks.domain import GreeksConfig
from optbus_greeks.topology import TOPOLOGY, GreeksDeps


class GreeksSettings(ServiceSettings):
    """Settings of the greeks service (``OPTBUS_GREEKS_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_GREEKS_", extra="ignore")

    batch_size: int = Field(default=64, ge=1, le=TOPOLOGY.delivery.max_ack_pending)


def build_app(settings: GreeksSettings) -> AsgiFastStream:
    """Wire the greeks service."""
    broker = make_broker(settings)
    bus = LiveBus(broker, TOPOLOGY.service, TOPOLOGY.make_clock(settings.clock))
    facts = load_market_facts()
    config = GreeksConfig(rate_at=DatedRate(facts), expiry_close_ns=facts.expiry_close_ns)
    tuning = PullTuning(batch_size=settings.batch_size)
    consumers = pull_consumers(TOPOLOGY, GreeksDeps(config, bus.clock), bus, tuning)

    async def compile_pricing() -> None:
        await asyncio.to_thread(compile_kernels)

    return create_app(
        TOPOLOGY, settings, broker, consumers=consumers, on_connected=[compile_pricing]
    )


def main() -> None:
    """Run the greeks service until it is told to stop."""
    settings = GreeksSettings()
    run_on_uvloop(serve(build_app(settings), settings))
