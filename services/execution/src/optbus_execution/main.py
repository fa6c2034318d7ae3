"""Composition root of the execution service: the paper broker (or, live, a broker) on the bus."""

from __future__ import annotations

import structlog
from faststream.asgi import AsgiFastStream
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus import subjects
from optbus.clock import Clock
from optbus.market import MarketFacts, load_market_facts
from optbus.routing import subject_of
from optbus.runtime.control_state import read_kill_switch
from optbus.runtime.metrics import show_kill_switch
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus.runtime.wiring import LiveBus, PullTuning, pull_consumers
from optbus_brokers.backoff import Backoff
from optbus_execution.broker_reports import BrokerReports
from optbus_execution.broker_venue import BrokerSession, BrokerVenue, InstrumentIndex
from optbus_execution.config import PaperBrokerConfig, SlippageModel
from optbus_execution.engine import ExecutionEngine
from optbus_execution.live import (
    LiveTradingSettings,
    VenueName,
    VenueUnusable,
    broker_adapters,
    live_trading_refusal,
)
from optbus_execution.live_link import LinkTiming, LiveLink
from optbus_execution.paper import PaperBroker
from optbus_execution.topology import TOPOLOGY
from optbus_execution.venue import Venue, VenueReport

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
    batch_size: int = Field(default=64, ge=1, le=TOPOLOGY.delivery.max_ack_pending)
    venue: VenueName = Field(
        default="paper", description="paper, or a broker (live only with OPTBUS_LIVE_TRADING=yes)"
    )
    market_protection_pct: float = Field(
        default=5.0, gt=0, le=40, description="how far past the touch a market order may fill"
    )
    reconcile_every_minutes: float = Field(default=5.0, gt=0)
    broker_poll_seconds: float = Field(
        default=1.0, gt=0, description="order-book poll period of a broker without a stream"
    )
    broker_backoff_seconds: float = Field(default=1.0, gt=0)
    broker_backoff_cap_seconds: float = Field(default=30.0, gt=0)


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


class _LiveVenue:
    """A broker venue before its engine exists: the venue reads quotes and risk's margins
    from the engine's state."""

    def __init__(self, settings: ExecutionSettings, facts: MarketFacts, clock: Clock) -> None:
        adapters = broker_adapters(settings.venue)
        self.broker = adapters.orders(clock)
        self.feed = adapters.feed(clock)
        self.engine: ExecutionEngine | None = None
        reports = BrokerReports(self.broker.name, facts, clock, settings.brokerage_per_order)
        self.venue = BrokerVenue(
            reports,
            InstrumentIndex([]),
            facts,
            lambda contract: (
                None if self.engine is None else self.engine.state.book.quote(contract)
            ),
            lambda intent_id: (
                None if self.engine is None else self.engine.state.margins.get(intent_id)
            ),
            settings.market_protection_pct / 100,
        )
        self.timing = LinkTiming(
            send_every_seconds=0.02,
            poll_every_seconds=settings.broker_poll_seconds,
            reconcile_every_seconds=settings.reconcile_every_minutes * 60,
            backoff=Backoff(settings.broker_backoff_seconds, settings.broker_backoff_cap_seconds),
        )


def build_app(settings: ExecutionSettings) -> AsgiFastStream:
    """Wire the execution service: restore state from the log, then consume its inputs; on a
    broker venue, then link to the broker (see ``live_link``)."""
    broker = make_broker(settings)
    bus = LiveBus(broker, TOPOLOGY.service, TOPOLOGY.make_clock(settings.clock))
    paper, facts = broker_config(settings), load_market_facts()
    live = None if settings.venue == "paper" else _LiveVenue(settings, facts, bus.clock)
    venue: Venue = PaperBroker(paper, facts, bus.clock) if live is None else live.venue
    engine = ExecutionEngine(paper.execution(), venue, bus.clock, facts, halted=True)
    consumers = pull_consumers(TOPOLOGY, engine, bus, PullTuning(batch_size=settings.batch_size))

    async def restore() -> None:
        TOPOLOGY.restore(engine, bus.clock, await bus.history(TOPOLOGY))
        state = await read_kill_switch(bus.jetstream())
        engine.on_kill_switch(state.engaged, reason=state.reason)
        show_kill_switch(TOPOLOGY.service, engine.halted)
        _log.info("state restored", positions=len(engine.positions()), halted=engine.halted)

    if live is None:
        return create_app(TOPOLOGY, settings, broker, on_connected=[restore], consumers=consumers)
    live.engine = engine

    async def deliver(report: VenueReport) -> None:
        events = engine.on_report(report)
        await bus.publisher.publish_all((subject_of(event), event) for event in events)

    async def publish_command(command: bytes) -> None:
        await broker.connection.publish(subjects.RECONCILIATION_KILLSWITCH, command)

    session = BrokerSession(
        live.broker, live.venue, deliver, bus.clock, backoff=live.timing.backoff
    )
    link = LiveLink(live.broker, live.feed, live.venue, session, live.timing)

    async def connect_broker() -> None:
        await link.start(engine, publish_command)

    # The link starts before the consumers: a decision taken before the broker's instrument
    # master is loaded and its books read would be refused as naming no instrument.
    return create_app(
        TOPOLOGY, settings, broker, consumers=consumers,
        on_connected=[restore, connect_broker], on_stopping=[link.stop],
    )  # fmt: skip


def check_venue(settings: ExecutionSettings, live: LiveTradingSettings) -> None:
    """Refuse to start (exit non-zero, saying why) on a broker venue without the live-trading
    switch or without its adapter; with both, say loudly that real money is at stake."""
    refusal = live_trading_refusal(settings.venue, live.live_trading)
    if refusal is not None:
        raise SystemExit(f"execution: refusing to start: {refusal}")
    if settings.venue == "paper":
        return
    try:
        broker_adapters(settings.venue)
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
