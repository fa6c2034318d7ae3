"""The users of deploy/nats/accounts.conf on a real server: a service may do what parking a
message past MaxDeliver takes (hear its consumer's advisory, read the message by sequence,
publish the dead letter) and check its streams and durables, but never change or delete a
stream nor create or change a durable; only the migrator shapes the bus."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY

from optbus.clock import LiveClock
from optbus.codec import Decoder
from optbus.events import DeadLetter
from optbus.runtime.bus import DeadLetterOffice, EventPublisher
from optbus.runtime.consumer import PullConsumer, PullConsumerSpec
from optbus.runtime.migration import (
    check_consumers,
    check_streams,
    declared_consumers,
    ensure_consumer,
)
from optbus.runtime.monitoring import DependencyMonitor
from optbus.subjects import END_OF_DAY, stream_of
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.topologies import TOPOLOGIES
from optbus_greeks.topology import TOPOLOGY as GREEKS
from tests.nats_accounts import AccountsServer, accounts_nats

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AccountsServer]:
    """A nats-server with the repository's accounts."""
    with accounts_nats(tmp_path) as server:
        yield server


@pytest.fixture
async def migrated(server: AccountsServer) -> AccountsServer:
    """The server once ``optbus bus migrate`` ran as the migrator."""
    await migrate_bus(server.url, security=server.security_of("migrator"))
    return server


async def always_fails(batch: Sequence[Msg]) -> None:
    raise RuntimeError("cannot take it")


async def test_greeks_as_its_own_user_parks_a_message_past_max_deliver(
    migrated: AccountsServer,
) -> None:
    greeks, market_data, operator = [
        await migrated.connect_as(user) for user in ("greeks", "market-data", "operator")
    ]
    [declared] = GREEKS.consumers
    spec = PullConsumerSpec(
        stream=declared.stream, subject=declared.subject, durable=declared.durable,
        idle_poll_seconds=0.5, max_deliver=2, backoff_seconds=(0.1,),
    )  # fmt: skip
    # The migrator declares greeks' durable with two deliveries, for the test's sake.
    migrator = await migrated.connect_as("migrator")
    await ensure_consumer(migrator.jetstream(), spec)
    await migrator.close()
    office = DeadLetterOffice(
        EventPublisher(greeks.jetstream, "greeks"), "greeks", spec.durable, LiveClock()
    )
    running = PullConsumer(lambda: greeks, spec, always_fails, "greeks", office)
    await running.start()
    await market_data.jetstream().publish("md.chain.NIFTY.20261124", b"poison")

    async with asyncio.timeout(15.0):
        while True:
            try:
                stored = await operator.jetstream().get_msg("DLQ", subject="dlq.md.chain.>")
                break
            except NotFoundError:
                await asyncio.sleep(0.1)
    await running.stop()
    for nc in (greeks, market_data, operator):
        await nc.close()

    assert Decoder(DeadLetter).decode(stored.data or b"").reason.startswith("delivered 2 times")


async def test_every_service_as_its_own_user_may_check_the_streams_it_uses(
    migrated: AccountsServer,
) -> None:
    for topology in TOPOLOGIES:
        nc = await migrated.connect_as(topology.service)
        await check_streams(nc.jetstream(), topology.streams)
        await nc.close()


async def test_every_service_as_its_own_user_may_check_the_durables_it_runs(
    migrated: AccountsServer,
) -> None:
    for topology in TOPOLOGIES:
        nc = await migrated.connect_as(topology.service)
        await check_consumers(nc.jetstream(), declared_consumers((topology,)))
        await nc.close()


async def test_a_service_user_cannot_update_its_own_durable(migrated: AccountsServer) -> None:
    greeks = await migrated.connect_as("greeks")
    config = (await greeks.jetstream().consumer_info("MD", "greeks")).config
    config.max_deliver = 1

    with pytest.raises(NatsTimeoutError):
        await greeks.jetstream(timeout=1.0).add_consumer("MD", config)

    await greeks.close()
    operator = await migrated.connect_as("operator")
    assert (await operator.jetstream().consumer_info("MD", "greeks")).config.max_deliver == 10
    await operator.close()


async def test_a_service_reading_history_cannot_update_a_durable_through_its_read_grant(
    migrated: AccountsServer,
) -> None:
    risk = await migrated.connect_as("risk")
    config = (await risk.jetstream().consumer_info("TRADING", "risk-executions")).config
    config.max_deliver = 1

    with pytest.raises(NatsTimeoutError):
        await risk.jetstream(timeout=1.0).add_consumer("TRADING", config)

    await risk.close()
    operator = await migrated.connect_as("operator")
    stored = (await operator.jetstream().consumer_info("TRADING", "risk-executions")).config
    assert stored.max_deliver == 10
    await operator.close()


async def test_a_service_user_cannot_cap_the_trading_stream(migrated: AccountsServer) -> None:
    market_data = await migrated.connect_as("market-data")
    capped = (await market_data.jetstream().stream_info("MD")).config
    capped.name, capped.subjects, capped.max_msgs = "TRADING", ["strategy.>"], 1

    with pytest.raises(NatsTimeoutError):
        await market_data.jetstream(timeout=1.0).update_stream(capped)

    await market_data.close()
    operator = await migrated.connect_as("operator")
    assert (await operator.jetstream().stream_info("TRADING")).config.max_msgs == -1
    await operator.close()


async def test_a_service_user_cannot_delete_the_dead_letter_stream(
    migrated: AccountsServer,
) -> None:
    risk = await migrated.connect_as("risk")

    with pytest.raises(NatsTimeoutError):
        await risk.jetstream(timeout=1.0).delete_stream("DLQ")

    await risk.close()
    operator = await migrated.connect_as("operator")
    assert (await operator.jetstream().stream_info("DLQ")).config.name == "DLQ"
    await operator.close()


async def test_the_operator_may_ask_for_end_of_day_training(migrated: AccountsServer) -> None:
    operator = await migrated.connect_as("operator")

    ack = await operator.jetstream().publish(END_OF_DAY, b"{}", timeout=5.0)

    await operator.close()
    assert ack.stream == stream_of(END_OF_DAY).name


async def test_every_service_as_its_own_user_may_read_its_consumers_lag(
    migrated: AccountsServer,
) -> None:
    async def answers() -> bool:
        return True

    for topology in TOPOLOGIES:
        nc = await migrated.connect_as(topology.service)
        specs = declared_consumers((topology,))
        monitor = DependencyMonitor(topology.service, {"nats": answers}, nc.jetstream, specs, 60)
        await monitor.poll()
        await nc.close()

        for spec in specs:
            labels = {"service": topology.service, "consumer": spec.durable}
            assert REGISTRY.get_sample_value("optbus_consumer_pending_messages", labels) == 0
