"""The operator's kill-switch commands on the bus: write, then act. The new state goes to the
bucket first; only once it is stored does risk take it, publish the events and ack, so a
restarted service knows the switch before it trades, and a failed write changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from nats.aio.msg import Msg

from optbus.codec import Decoder, UndecodableMessage
from optbus.control import KillSwitchState
from optbus.events import KillSwitchCommand
from optbus.ids import derived_event_id
from optbus.routing import subject_of
from optbus.runtime.control_state import write_kill_switch
from optbus.runtime.metrics import show_kill_switch
from optbus.runtime.topology import ConsumerPorts
from optbus.subjects import killswitch_operator
from optbus_risk.engine import RiskEngine
from optbus_risk.killswitch import authenticated, to_stored

_log = structlog.get_logger()
_command_decoder = Decoder(KillSwitchCommand)


async def handle_commands(
    messages: Sequence[Msg], engine: RiskEngine, ports: ConsumerPorts
) -> None:
    """Apply each operator's command in order, as from the operator its subject names; one
    that does not parse is parked, never obeyed. The rest of CONTROL (risk's own events, the
    end of day) is passed over."""
    for msg in messages:
        operator = killswitch_operator(msg.subject)
        if operator is None:
            await msg.ack()
            continue
        try:
            cmd = authenticated(_command_decoder.decode(msg.data), operator)
        except UndecodableMessage as exc:
            await ports.dead_letters.park(msg, exc.reason)
            continue
        meta = msg.metadata
        command_id = derived_event_id("killswitch", meta.stream, meta.sequence.stream)
        step = engine.decide_command(cmd, command_id)
        await _store(ports, to_stored(step.state.kill_switch), cmd)
        produced = engine.act_on_command(step)
        show_kill_switch(ports.service, engine.state.kill_switch.halted)
        await ports.publisher.publish_all([(subject_of(event), event) for event in produced])
        await msg.ack()
        if cmd.action == "release" and engine.state.kill_switch.halted:
            _log.critical("KILL-SWITCH RELEASE REFUSED: operator may not release",
                          operator=cmd.operator, reason=cmd.reason,
                          allowed=sorted(engine.env.config.release_operators))  # fmt: skip
        _log.warning("kill switch command applied", action=cmd.action, operator=cmd.operator,
                     reason=cmd.reason, halted=engine.state.kill_switch.halted)  # fmt: skip


async def _store(ports: ConsumerPorts, state: KillSwitchState, cmd: KillSwitchCommand) -> None:
    """Write the switch before acting on it; on failure nothing changed, and the error goes
    on to the consumer, which naks the command (and the rest of its batch) for redelivery."""
    try:
        await write_kill_switch(ports.jetstream(), state)
    except Exception as exc:
        _log.critical("KILL-SWITCH STATE NOT STORED: command not applied, will be redelivered",
                      action=cmd.action, operator=cmd.operator, error=repr(exc))  # fmt: skip
        raise
