"""The live broker link of the execution service: its session, reconciliation and halts.

Built only for a broker venue (``OPTBUS_EXECUTION_VENUE`` not ``paper``, with the live-trading
switch). At start, once the engine is restored from the log: log in, load the broker's
instrument master, tell the adapter the client order ids of the orders the log says are
working (so that their book rows name them after a restart) and expect reports about them,
catch up on what the broker did meanwhile, and reconcile; then send orders, follow the
broker's reports and reconcile again every ``reconcile_every_seconds``. A difference halts
trading: the link publishes the kill-switch command an operator would, as operator
``reconciliation``, so risk stores the state and its audit row and every service halts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec
import structlog

from optbus import subjects
from optbus.events import Contract, KillSwitchCommand
from optbus_brokers.backoff import Backoff
from optbus_brokers.feed import BrokerFeed
from optbus_brokers.orders import BrokerOrders, BrokerUnavailable
from optbus_execution.broker_venue import BrokerSession, BrokerVenue, InstrumentIndex
from optbus_execution.engine import ExecutionEngine
from optbus_execution.reconcile import (
    Difference,
    order_differences,
    position_differences,
    reason,
)

_log = structlog.get_logger()

PublishCommand = Callable[[bytes], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class LinkTiming:
    """How often the link acts: sends its queue, polls a broker without a stream, reconciles."""

    send_every_seconds: float
    poll_every_seconds: float
    reconcile_every_seconds: float
    backoff: Backoff


async def broker_differences(
    broker: BrokerOrders, engine: ExecutionEngine, contract_of: Callable[[str], Contract | None]
) -> list[Difference]:
    """What the broker and the engine's state (the log) disagree on, right now."""
    held = await broker.positions()
    rows = await broker.order_book()
    working = [(t.order, t.remaining) for t in engine.state.working.tickets()]
    return [
        *position_differences(held, engine.positions(), contract_of),
        *order_differences(rows, working),
    ]


class LiveLink:
    """The broker session of a running execution service and its reconciliation."""

    def __init__(
        self,
        broker: BrokerOrders,
        feed: BrokerFeed,
        venue: BrokerVenue,
        session: BrokerSession,
        timing: LinkTiming,
    ) -> None:
        self._broker = broker
        self._feed = feed
        self._venue = venue
        self._session = session
        self._timing = timing
        self._tasks: list[asyncio.Task[None]] = []
        self._halted_for = ""

    async def start(self, engine: ExecutionEngine, publish_command: PublishCommand) -> None:
        """Log in, catch up with the broker, reconcile, then run the link's loops."""
        await self._broker.login()
        await self._feed.login()
        self._venue.instruments = InstrumentIndex(await self._feed.load_instruments())
        working = engine.working_orders()
        self._broker.remember(order.client_order_id for order in working)
        for order in working:
            self._venue.reports.track(order, accepted=True)
        await self._session.poll()
        await self.reconcile(engine, publish_command)
        self._tasks = [
            asyncio.create_task(self._forever(self._session.send_queued, "send")),
            asyncio.create_task(self._follow()),
            asyncio.create_task(self._reconcile_forever(engine, publish_command)),
        ]

    async def stop(self) -> None:
        """Stop the loops (what is queued stays unsent; the log says so at the next start)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def reconcile(self, engine: ExecutionEngine, publish_command: PublishCommand) -> None:
        """Halt (publish an engage) when the broker and the log differ. Skipped while orders
        are in flight (sent, not yet answered), whose reports would make a false difference."""
        if self._venue.outbox or engine.state.pending:
            return
        try:
            differences = await broker_differences(
                self._broker, engine, self._venue.instruments.contract
            )
        except BrokerUnavailable as exc:
            _log.warning("reconciliation skipped: broker unavailable", error=str(exc))
            return
        if not differences:
            return
        why = reason(differences)
        _log.error("reconciliation mismatch: halting", reason=why)
        if why != self._halted_for:
            # Engaged even when already halted (by an operator, or at start until released), so
            # that the mismatch is on record; once per distinct difference, not every round.
            self._halted_for = why
            command = KillSwitchCommand(
                action="engage", reason=why, operator=subjects.RECONCILIATION_OPERATOR
            )
            await publish_command(msgspec.json.encode(command))

    async def _follow(self) -> None:
        """The broker's reports: its stream (reconnecting with backoff, catching up by a poll
        after each reconnect), else a poll of its books every ``poll_every_seconds``."""
        if not self._broker.has_order_updates:
            await self._forever(self._session.poll, "poll", self._timing.poll_every_seconds)
            return
        rng, attempt = random.Random(), 0
        while True:
            try:
                await self._session.follow_updates()
                attempt = 0
            except BrokerUnavailable as exc:
                _log.warning("order updates dropped", error=str(exc))
                await asyncio.sleep(self._timing.backoff.delay(attempt, rng))
                attempt += 1
                await self._session.poll()

    async def _reconcile_forever(
        self, engine: ExecutionEngine, publish_command: PublishCommand
    ) -> None:
        while True:
            await asyncio.sleep(self._timing.reconcile_every_seconds)
            await self.reconcile(engine, publish_command)

    async def _forever(
        self, step: Callable[[], Awaitable[None]], what: str, every: float | None = None
    ) -> None:
        while True:
            try:
                await step()
            except Exception:  # a failed round must not end the loop that trades
                _log.exception("broker link step failed", step=what)
            await asyncio.sleep(every or self._timing.send_every_seconds)
