"""The operator's kill-switch commands on the bus: the state to the bucket first, then the
events, then the ack, so a restarted service knows the switch before it trades."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from nats.aio.msg import Msg

from optbus.codec import Decoder, UndecodableMessage
from optbus.events import KillSwitchCommand
from optbus.ids import derived_event_id
from optbus.routing import subject_of
from optbus.runtime.control_state import write_kill_switch
from optbus.runtime.metrics import show_kill_switch
from optbus.runtime.topology import ConsumerPorts
from optbus_risk.engine import RiskEngine
from optbus_risk.killswitch import to_stored

_log = structlog.get_logger()
_command_decoder = Decoder(KillSwitchCommand)


async def handle_commands(
    messages: Sequence[Msg], engine: RiskEngine, ports: ConsumerPorts
) -> None:
    """Apply each command in order; one that does not parse is parked, never obeyed."""
    for msg in messages:
        try:
            cmd = _command_decoder.decode(msg.data)
        except UndecodableMessage as exc:
            await ports.dead_letters.park(msg, exc.reason)
            continue
        meta = msg.metadata
        command_id = derived_event_id("killswitch", meta.stream, meta.sequence.stream)
        produced = engine.on_command(cmd, command_id)
        await write_kill_switch(ports.jetstream(), to_stored(engine.state.kill_switch))
        show_kill_switch(ports.service, engine.state.kill_switch.halted)
        await ports.publisher.publish_all([(subject_of(event), event) for event in produced])
        await msg.ack()
        _log.warning("kill switch command applied", action=cmd.action, operator=cmd.operator,
                     reason=cmd.reason, halted=engine.state.kill_switch.halted)  # fmt: skip
