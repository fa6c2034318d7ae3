"""Composition root of the risk service: pre-trade checks, monitoring and the kill switch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
import structlog
from faststream.asgi import AsgiFastStream
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from optbus import control, subjects
from optbus.clock import EventClock
from optbus.codec import Decoder, UndecodableMessage
from optbus.events import BusEvent, ChainGreeks, Event, KillSwitchCommand, OrderIntent
from optbus.ids import derived_event_id
from optbus.market import load_market_facts
from optbus.routing import subject_of
from optbus.runtime.bus import DeadLetterOffice, EventPublisher, KillSwitchDeadLetterOffice
from optbus.runtime.consumer import PullConsumer, PullConsumerSpec
from optbus.runtime.control_state import read_kill_switch, write_kill_switch
from optbus.runtime.dispatch import Dispatcher
from optbus.runtime.history import read_history
from optbus.runtime.metrics import KILLSWITCH_ENGAGED
from optbus.runtime.service import create_app, make_broker, run_on_uvloop, serve
from optbus.runtime.settings import ServiceSettings
from optbus_risk.config import DEFAULT_CONFIG_PATH, load_risk_config
from optbus_risk.context import RiskEnv
from optbus_risk.handlers import SERVICE, RiskDesk
from optbus_risk.killswitch import from_stored, to_stored
from optbus_risk.state import RiskState

_log = structlog.get_logger()
_command_decoder = Decoder(KillSwitchCommand)


class RiskSettings(ServiceSettings):
    """Settings of the risk service (``OPTBUS_RISK_*``)."""

    model_config = SettingsConfigDict(env_prefix="OPTBUS_RISK_", extra="ignore")

    config_file: Path = Field(default=DEFAULT_CONFIG_PATH, description="risk limits (TOML)")
    max_intent_age_ms: int | None = Field(
        default=None, gt=0, description="overrides the file's; a replay at N x real time needs N x"
    )
    batch_size: int = Field(default=64, ge=1)


TRADING_HISTORY = ("risk.decision.>", "exec.>")


def _inputs(desk: RiskDesk) -> tuple[tuple[str, str, str, type[Any], Callable[..., Any]], ...]:
    return (
        ("TRADING", "strategy.intent.>", "risk-intents", OrderIntent, desk.on_intent),
        ("ANALYTICS", subjects.GREEKS_CHAINS, "risk-chains", ChainGreeks, desk.on_chain),
        ("TRADING", "exec.>", "risk-executions", Event, desk.on_exec),
    )


async def handle_commands(
    messages: Sequence[Msg],
    desk: RiskDesk,
    jetstream: Callable[[], JetStreamContext],
    publisher: EventPublisher,
    dead_letters: DeadLetterOffice,
) -> None:
    """Kill-switch commands: state to the bucket first, then the events, then the ack."""
    for msg in messages:
        try:
            cmd = _command_decoder.decode(msg.data)
        except UndecodableMessage as exc:
            await dead_letters.park(msg, exc.reason)
            continue
        meta = msg.metadata
        command_id = derived_event_id("killswitch", meta.stream, meta.sequence.stream)
        produced = desk.on_command(cmd, command_id)
        await write_kill_switch(jetstream(), to_stored(desk.state.kill_switch))
        KILLSWITCH_ENGAGED.labels(SERVICE).set(1 if desk.state.kill_switch.halted else 0)
        await publisher.publish_all([(subject_of(event), event) for event in produced])
        await msg.ack()
        _log.warning("kill switch command applied", action=cmd.action, operator=cmd.operator,
                     reason=cmd.reason, halted=desk.state.kill_switch.halted)  # fmt: skip


def build_app(settings: RiskSettings) -> AsgiFastStream:
    """Wire the risk service: restore state from the log and the bucket, then consume."""
    broker = make_broker(settings)
    clock = EventClock()
    config = load_risk_config(settings.config_file)
    if settings.max_intent_age_ms is not None:
        config = msgspec.structs.replace(config, max_intent_age_ms=settings.max_intent_age_ms)
    env = RiskEnv(config=config, facts=load_market_facts(), clock=clock)
    desk = RiskDesk(env, clock, RiskState.initial(from_stored(control.UNKNOWN)))

    def jetstream() -> JetStreamContext:
        return broker.connection.jetstream()

    publisher = EventPublisher(jetstream, SERVICE)
    consumers = []
    for stream, subject, durable, event_type, handle in _inputs(desk):
        decoder: Decoder[Any] = Decoder(event_type if event_type is not Event else BusEvent)  # type: ignore[arg-type]
        dispatcher = Dispatcher(
            service=SERVICE, consumer=durable, decoder=decoder, handle=handle,
            publisher=publisher, dead_letters=DeadLetterOffice(publisher, SERVICE, durable, clock),
        )  # fmt: skip
        spec = PullConsumerSpec(stream=stream, subject=subject, durable=durable,
                                batch_size=settings.batch_size, from_start=False)  # fmt: skip
        consumers.append(PullConsumer(lambda: broker.connection, spec, dispatcher, SERVICE))
    command_office = KillSwitchDeadLetterOffice(publisher, SERVICE, "risk-killswitch", clock)
    commands = partial(handle_commands, desk=desk, jetstream=jetstream, publisher=publisher,
                       dead_letters=command_office)  # fmt: skip
    spec = PullConsumerSpec(stream="CONTROL", subject=subjects.KILLSWITCH,
                            durable="risk-killswitch", batch_size=16, from_start=False)  # fmt: skip
    consumers.append(PullConsumer(lambda: broker.connection, spec, commands, SERVICE))

    async def restore() -> None:
        stored = await read_kill_switch(jetstream())
        desk.state = RiskState.initial(from_stored(stored))
        for event in await read_history(jetstream(), "TRADING", TRADING_HISTORY):
            desk.fold(event)
        KILLSWITCH_ENGAGED.labels(SERVICE).set(1 if desk.state.kill_switch.halted else 0)
        _log.info("state restored", kill_switch=desk.state.kill_switch.describe())

    return create_app(SERVICE, settings, broker, on_connected=[restore], consumers=consumers)


def main() -> None:
    """Run the risk service until it is told to stop."""
    settings = RiskSettings()
    run_on_uvloop(serve(build_app(settings), settings))
