"""A session of market data published steadily through a fault, and what it stored; the kill
switch engaged before the fault, and whether it is still obeyed after."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dt_time

import msgspec
import nats
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from optbus.codec import encode
from optbus.control import KillSwitchReading, KillSwitchState
from optbus.events import Contract, Event, KillSwitchCommand, Leg, OrderIntent, RiskDecision
from optbus.ids import derived_event_id
from optbus.routing import subject_of
from optbus.runtime.control_state import read_kill_switch
from optbus.subjects import risk_decision
from optbus_cli.killswitch import Confirmation, send_command

from ..integration.conftest import Backlog, durable_backlog, eventually, query_one, stuck, ticks_on


async def connect(url: str) -> NATS:
    """A client of the server, or of every member of a cluster, that keeps reconnecting, as the
    services do."""
    return await nats.connect(
        url.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.2, connect_timeout=2
    )


@dataclass
class SteadyPublisher:
    """Publishes events one by one as market data does, retrying each until it is stored."""

    url: str
    published: int = 0
    retries: int = 0

    async def publish(self, steps: list[list[Event]], pause: float = 0.0) -> None:
        """Publish every event of ``steps``, pausing ``pause`` seconds between steps."""
        nc = await connect(self.url)
        js = nc.jetstream()
        for step in steps:
            for event in step:
                await self._publish_until_stored(js, event)
                self.published += 1
            await asyncio.sleep(pause)
        await nc.close()
        print(f"\npublished {self.published} events, {self.retries} publishes retried")

    async def _publish_until_stored(self, js: JetStreamContext, event: Event) -> None:
        self.retries += await publish_until_stored(js, event)


async def publish_until_stored(js: JetStreamContext, event: Event) -> int:
    """Publish until JetStream acknowledges (``Nats-Msg-Id`` drops a repeat it stored); how many
    times it was published again."""
    retries = 0
    while True:
        try:
            await js.publish(
                subject_of(event), encode(event), headers={"Nats-Msg-Id": event.event_id}, timeout=2
            )
            return retries
        except NatsError:
            retries += 1
            await asyncio.sleep(0.2)


OPERATOR = "fault-drill"
"""Who engages the kill switch before each fault (``optbus killswitch engage --operator``)."""
STRATEGY = "FAULT"
"""The strategy named by the opening intent sent to risk after the fault."""


@dataclass(frozen=True)
class KillSwitchSeen:
    """The kill switch after a fault: who the bucket says engaged it (None when it reads
    released or unreadable), and whether risk refused an opening intent on its kill-switch
    check."""

    engaged_by: str | None
    refused_opening: bool


OBEYED = KillSwitchSeen(engaged_by=OPERATOR, refused_opening=True)
"""Engaged throughout: still engaged by the drill's operator, and obeyed by risk."""


async def engage_kill_switch(url: str, within: float = 60.0) -> None:
    """Engage the kill switch as an operator does (``optbus killswitch engage``): the command on
    ``control.killswitch.<operator>``, sent again until risk confirms it stored the engaged state
    (a risk service just started may not consume yet, as the operator who retries would see)."""
    command = KillSwitchCommand(action="engage", reason="fault drill", operator=OPERATOR)
    answers: list[Confirmation] = []

    async def confirmed() -> bool:
        answers.append(await send_command(url.split(",")[0], command))
        return bool(answers[-1].confirmed)

    try:
        await eventually(confirmed, within=within)
    except AssertionError:
        raise AssertionError(answers[-1].detail) from None


async def kill_switch_seen(url: str, day: date, within: float = 60.0) -> KillSwitchSeen:
    """Read the switch back from its bucket (a read may fail while a cluster elects a leader:
    it is tried again), then ask risk about an opening intent stamped on ``day``."""
    nc = await connect(url)
    js = nc.jetstream()
    readings: list[KillSwitchReading] = []

    async def read() -> bool:
        readings.append(await read_kill_switch(js))
        return isinstance(readings[-1], KillSwitchState)

    try:
        with suppress(AssertionError):
            await eventually(read, within=within)
        state = readings[-1]
        engaged_by = (
            state.operator if isinstance(state, KillSwitchState) and state.engaged else None
        )
        decision = await _decide(js, _opening_intent(day), within)
    finally:
        await nc.close()
    refused = not decision.approved and "kill_switch" in {c.name for c in decision.failures}
    return KillSwitchSeen(engaged_by=engaged_by, refused_opening=refused)


def _opening_intent(day: date) -> OrderIntent:
    """Buy one lot of a NIFTY call, stamped 11:30 in Mumbai on ``day`` (within the session)."""
    intent_id = derived_event_id("fault-kill-switch", day.isoformat())
    ts = int(datetime.combine(day, dt_time(6, 0), tzinfo=UTC).timestamp()) * 10**9
    contract = Contract(underlying="NIFTY", expiry=day, strike=26_000.0, option_type="CE")
    return OrderIntent(
        event_id=intent_id, ts_event=ts, ts_init=time.time_ns(), intent_id=intent_id,
        group_id=intent_id, strategy=STRATEGY, purpose="open", reason="fault drill",
        legs=[Leg(contract=contract, side="BUY", quantity=65, limit_price=100.0)],
    )  # fmt: skip


async def _decide(js: JetStreamContext, intent: OrderIntent, within: float) -> RiskDecision:
    """Publish ``intent`` and wait for risk's decision on it in the TRADING stream (a member
    just back from a partition may answer neither for a few seconds: both are tried again)."""
    await asyncio.wait_for(publish_until_stored(js, intent), timeout=within)
    decisions: list[RiskDecision] = []

    async def decided() -> bool:
        try:
            message = await js.get_last_msg("TRADING", risk_decision(STRATEGY))
        except NatsError:  # not decided yet (NotFoundError), or no answer yet
            return False
        assert message.data is not None
        decisions.append(msgspec.json.decode(message.data, type=RiskDecision))
        return decisions[-1].intent.intent_id == intent.intent_id

    await eventually(decided, within=within)
    return decisions[-1]


@dataclass(frozen=True)
class Tally:
    """What a session through a fault published and stored (option ticks of one day, or events),
    what was stuck on a durable at the end, and the kill switch after the fault."""

    published: int
    stored: int
    distinct: int
    stuck: Backlog
    """The durables with a message still pending or unacknowledged at the end (none: empty)."""
    durables: int
    kill_switch: KillSwitchSeen

    @property
    def lost(self) -> int:
        return self.published - self.distinct

    @property
    def duplicated(self) -> int:
        return self.stored - self.distinct


def tally(
    database_url: str,
    day: date,
    published: int,
    backlog: Backlog,
    kill_switch: KillSwitchSeen,
) -> Tally:
    """Count the day's rows, and the distinct options among them (one per option and time)."""
    stored, distinct = query_one(
        database_url,
        "SELECT count(*), count(DISTINCT (underlying, expiry, strike, option_type, time))"
        " FROM option_ticks WHERE time >= %s::date AND time < %s::date + 1",
        (day, day),
    )
    result = Tally(
        published, int(stored), int(distinct),  # type: ignore[call-overload]
        stuck(backlog), len(backlog), kill_switch,
    )  # fmt: skip
    print(
        f"\noption ticks {day}: published {result.published}, stored {result.stored}, "
        f"lost {result.lost}, duplicated {result.duplicated}, "
        f"stuck {result.stuck} on {result.durables} durables; "
        f"kill switch {result.kill_switch}"
    )
    return result


async def wait_until_stored(database_url: str, day: date, rows: int, within: float) -> float:
    """Wait until ``rows`` ticks are stored or ``within`` seconds pass (the tally then says);
    return the monotonic time the wait ended."""

    async def done() -> bool:
        return ticks_on(database_url, day) >= rows

    with suppress(AssertionError):
        await eventually(done, within=within)
    ended = time.monotonic()
    await asyncio.sleep(2.0)  # anything redelivered late would land now
    return ended


async def after_the_fault(url: str, day: date) -> tuple[Backlog, KillSwitchSeen]:
    """Once the session's messages are stored: the kill switch as risk and its bucket see it
    (the intent asked about and its decision are then consumed too), and every durable's
    backlog once it drained (or a minute passed)."""
    kill_switch = await kill_switch_seen(url, day)
    return await durable_backlog(url), kill_switch
