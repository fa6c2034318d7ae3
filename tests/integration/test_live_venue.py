"""Execution on a live venue over a real bus. On each broker's local fake (Angel One, Kotak Neo,
ICICI Breeze) an approved intent opens a position at the broker and an engage with flatten
closes it there (a trade closed on the bus). On the local Angel One: a placement left
unanswered is found at the broker and not sent twice; a restarted execution and `optbus
reconcile` recognise the order an earlier run left working; a position at the broker that the
log does not know halts trading, `optbus reconcile` shows it, and `--adopt` makes it the log's
(audited)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
import nats
import nats.errors
import pytest
from click.testing import Result
from execution_fixtures import CALL, LOT, approved, chain, intent
from typer.testing import CliRunner

from optbus.clock import LiveClock
from optbus.control import KillSwitchState
from optbus.events import Fill
from optbus.runtime.control_state import read_kill_switch
from optbus.runtime.service import ServiceRunner
from optbus.subjects import RECONCILIATION_ADOPTED, RECONCILIATION_OPERATOR
from optbus_brokers.feed import Instrument
from optbus_cli.main import app
from optbus_cli.servers import LocalNats
from optbus_execution.main import ExecutionSettings
from optbus_execution.main import build_app as build_execution
from optbus_risk.main import RiskSettings
from optbus_risk.main import build_app as build_risk
from tests.brokers.angel_one_fake import AngelOneFake
from tests.brokers.conftest import MARKET_DAY
from tests.brokers.quote_model import ModelQuote, QuoteModel
from tests.brokers.venue_fakes import BROKERS, BrokerCase, FakeBroker

from .conftest import RunningService, eventually, publish_events

pytestmark = pytest.mark.integration


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AngelOneFake]:
    async with AngelOneFake(MARKET_DAY, LiveClock()) as fake:
        for name, value in fake.environment().items():
            monkeypatch.setenv(name, value)
        yield fake


async def _cli(*args: str) -> Result:
    """An ``optbus`` command, run off the event loop (it runs its own)."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def _kill_switch(url: str) -> KillSwitchState | None:
    nc = await nats.connect(url)
    try:
        state = await read_kill_switch(nc.jetstream())
    finally:
        await nc.close()
    return state if isinstance(state, KillSwitchState) else None


async def test_a_position_unknown_to_the_log_halts_is_shown_and_can_be_adopted(
    own_nats: LocalNats, fake: AngelOneFake
) -> None:
    call = next(i for i in fake.instruments if i.kind == "call" and i.underlying == "NIFTY")
    fake.inject_position(call.token, -call.lot_size, 100.0)
    risk_settings = RiskSettings(nats_url=own_nats.url, http_port=0)
    risk = await RunningService(ServiceRunner(build_risk(risk_settings), risk_settings)).ready()
    settings = ExecutionSettings(nats_url=own_nats.url, http_port=0, venue="angel-one")
    execution = RunningService(ServiceRunner(build_execution(settings), settings))
    try:
        await execution.ready()

        async def halted_by_reconciliation() -> bool:
            state = await _kill_switch(own_nats.url)
            return state is not None and state.engaged and state.operator == RECONCILIATION_OPERATOR

        await eventually(halted_by_reconciliation)
        state = await _kill_switch(own_nats.url)
        assert state is not None
        assert f"broker {-call.lot_size}, log 0" in state.reason

        shown = await _cli("reconcile", "--venue", "angel-one", "--nats-url", own_nats.url)
        assert shown.exit_code == 1, shown.output
        assert "broker" in shown.output.splitlines()[0]
        assert str(-call.lot_size) in shown.output

        adopted = await _cli(
            "reconcile", "--venue", "angel-one", "--nats-url", own_nats.url, "--adopt",
            "--reason", "the short is ours", "--operator", "asha",
        )  # fmt: skip
        assert adopted.exit_code == 0, adopted.output

        async def agreed() -> bool:
            again = await _cli("reconcile", "--venue", "angel-one", "--nats-url", own_nats.url)
            return again.exit_code == 0

        await eventually(agreed)
        assert await _trading_messages(own_nats.url, RECONCILIATION_ADOPTED) == 1
    finally:
        await execution.stop()
        await risk.stop()


@pytest.fixture
async def streaming_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AngelOneFake]:
    """The local Angel One around the fixtures' NIFTY strikes, matching orders every round."""
    spots = {"NIFTY": 26_000.0, "BANKNIFTY": 52_000.0}
    async with AngelOneFake(MARKET_DAY, LiveClock(), model=QuoteModel(spots=spots)) as fake:
        for name, value in fake.environment().items():
            monkeypatch.setenv(name, value)
        # A placement left unanswered is given up on within a second, not the default ten.
        monkeypatch.setenv("OPTBUS_ANGEL_ONE_REQUEST_TIMEOUT_SECONDS", "1")
        fake.start_streaming(0.1)
        yield fake


async def _trading_messages(url: str, subject: str) -> int:
    """How many messages the TRADING stream holds on ``subject``."""
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().stream_info("TRADING", subjects_filter=subject)
    finally:
        await nc.close()
    return (info.state.subjects or {}).get(subject, 0)


async def _filled_on_the_bus(url: str) -> int:
    """The units the TRADING stream's fills add up to (execution folded each as it published
    it, so its book holds them)."""
    nc = await nats.connect(url)
    try:
        subscription = await nc.jetstream().subscribe("exec.fill", ordered_consumer=True)
        units = 0
        while True:  # until the stream has nothing more to give
            try:
                message = await subscription.next_msg(timeout=0.5)
            except nats.errors.TimeoutError:
                return units
            units += msgspec.json.decode(message.data, type=Fill).quantity
    finally:
        await nc.close()


def _held(fake: AngelOneFake, token: str) -> int:
    position = fake.desk.positions.get(token)
    return 0 if position is None else position.net_quantity


@asynccontextmanager
async def _trading_on(url: str, venue: str) -> AsyncIterator[None]:
    """Risk and execution on ``venue`` (its fake's settings in the environment), released."""
    risk_settings = RiskSettings(nats_url=url, http_port=0)
    risk = await RunningService(ServiceRunner(build_risk(risk_settings), risk_settings)).ready()
    settings = ExecutionSettings(nats_url=url, http_port=0, venue=venue)
    execution = RunningService(ServiceRunner(build_execution(settings), settings))
    try:
        await execution.ready()
        released = await _cli(
            "killswitch", "release", "--reason", "start of test", "--operator", "asha",
            "--nats-url", url,
        )  # fmt: skip
        assert released.exit_code == 0, released.output
        yield
    finally:
        await execution.stop()
        await risk.stop()


def _fixtures_call(instruments: list[Instrument]) -> Instrument:
    """The broker's instrument of the execution fixtures' NIFTY call."""
    [call] = [
        i for i in instruments
        if (i.underlying, i.kind, i.expiry, i.strike) == ("NIFTY", "call", CALL.expiry, CALL.strike)
    ]  # fmt: skip
    return call


@pytest.fixture
async def trading(own_nats: LocalNats, streaming_fake: AngelOneFake) -> AsyncIterator[Instrument]:
    """Risk and execution on the Angel One venue, released to trade; the instrument of the
    fixtures' NIFTY call at the broker."""
    async with _trading_on(own_nats.url, "angel-one"):
        yield _fixtures_call(streaming_fake.instruments)


async def _approve_buy(url: str, quote: ModelQuote, quantity: int, ask_times: float) -> None:
    """Publish a chain showing the broker's touch ``quote`` and risk's approval of a buy of
    ``quantity`` limited at ``ask_times`` the broker's ask."""
    assert quote.bid is not None
    assert quote.ask is not None
    entry = intent("BUY", quantity, limit_price=round(quote.ask * ask_times, 1))
    now = LiveClock().now_ns()
    await publish_events(url, [chain(now, bid=quote.bid, ask=quote.ask), approved(entry)])


async def _market_rounds(fake: FakeBroker) -> None:
    """The fake's market going on: a round (quotes, orders matched) every tenth of a second."""
    while True:
        await fake.next_round()
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("case", BROKERS)
async def test_a_session_on_the_bus_opens_at_the_broker_and_flattening_closes_it_there(
    own_nats: LocalNats, case: BrokerCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with case.start(LiveClock()) as fake:
        for name, value in fake.environment.items():
            monkeypatch.setenv(name, value)
        fake.open_margin()  # the flatten's sell may be margined as a new short
        rounds = asyncio.create_task(_market_rounds(fake))
        try:
            async with _trading_on(own_nats.url, case.venue):
                call = _fixtures_call(fake.instruments)
                await _approve_buy(own_nats.url, fake.quote(call), 2 * LOT, ask_times=1.3)

                async def opened() -> bool:  # at the broker, and in execution's book
                    if fake.held(call) != 2 * LOT:
                        return False
                    return await _filled_on_the_bus(own_nats.url) == 2 * LOT

                await eventually(opened)
                flattened = await _cli(
                    "killswitch", "engage", "--reason", "end of test", "--operator", "asha",
                    "--flatten", "--nats-url", own_nats.url,
                )  # fmt: skip
                assert flattened.exit_code == 0, flattened.output

                async def closed() -> bool:
                    trades = await _trading_messages(own_nats.url, "exec.trade.closed")
                    return fake.held(call) == 0 and trades == 1

                await eventually(closed)
                assert fake.orders_placed() == 2
        finally:
            rounds.cancel()
            await asyncio.gather(rounds, return_exceptions=True)


async def test_a_placement_whose_answer_never_comes_is_found_at_the_broker_not_sent_again(
    own_nats: LocalNats, streaming_fake: AngelOneFake, trading: Instrument
) -> None:
    fake, call = streaming_fake, trading
    fake.time_out_next_placement = True
    await _approve_buy(own_nats.url, fake.quote(call.token), 2 * LOT, ask_times=1.3)

    async def filled_and_accepted() -> bool:
        accepted = await _trading_messages(own_nats.url, "exec.order.accepted")
        return _held(fake, call.token) == 2 * LOT and accepted == 1

    await eventually(filled_and_accepted)
    assert not fake.time_out_next_placement  # the placement was the one left unanswered
    assert len(fake.desk.orders) == 1


async def test_a_restarted_execution_recognises_its_working_order_and_the_log_agrees(
    own_nats: LocalNats, streaming_fake: AngelOneFake, trading: Instrument
) -> None:
    fake, call = streaming_fake, trading
    # Rests below the bid.
    await _approve_buy(own_nats.url, fake.quote(call.token), LOT, ask_times=0.8)

    async def accepted() -> bool:
        return await _trading_messages(own_nats.url, "exec.order.accepted") == 1

    await eventually(accepted)
    settings = ExecutionSettings(nats_url=own_nats.url, http_port=0, venue="angel-one")
    restarted = RunningService(ServiceRunner(build_execution(settings), settings))
    try:
        await restarted.ready()
        shown = await _cli("reconcile", "--venue", "angel-one", "--nats-url", own_nats.url)
        state = await _kill_switch(own_nats.url)
    finally:
        await restarted.stop()
    assert state is not None
    assert not state.engaged, state.reason
    assert shown.exit_code == 0, shown.output
    assert [o.row()["status"] for o in fake.desk.orders.values()] == ["open"]
