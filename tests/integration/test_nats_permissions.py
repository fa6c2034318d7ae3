"""The users of deploy/nats/accounts.conf on a real server: a service may do what parking a
message past MaxDeliver takes (hear its consumer's advisory, read the message by sequence,
publish the dead letter) and check its streams, but never change or delete a stream; only the
migrator shapes the bus."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY

from optbus.clock import LiveClock
from optbus.codec import Decoder
from optbus.events import DeadLetter
from optbus.runtime.bus import DeadLetterOffice, EventPublisher
from optbus.runtime.consumer import PullConsumer, PullConsumerSpec
from optbus.runtime.migration import check_streams
from optbus.runtime.monitoring import DependencyMonitor
from optbus.subjects import END_OF_DAY, stream_of
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.servers import free_port, nats_server_binary
from optbus_cli.topologies import TOPOLOGIES
from optbus_greeks.topology import TOPOLOGY as GREEKS
from tests.scripts import load_script

pytestmark = pytest.mark.integration

DEPLOY_NATS = Path(__file__).resolve().parents[2] / "deploy" / "nats"
PASSWORD = "not-a-secret"


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """A nats-server with the repository's accounts (every password ``PASSWORD``)."""
    shutil.copy(DEPLOY_NATS / "accounts.conf", tmp_path)
    port = free_port()
    (tmp_path / "nats-server.conf").write_text(
        f'port: {port}\njetstream: {{ store_dir: "{tmp_path / "js"}" }}\ninclude ./accounts.conf\n'
    )
    users = load_script(DEPLOY_NATS / "generate_accounts.py").users()
    env = {user.password_env: PASSWORD for user in users}
    with (tmp_path / "nats-server.log").open("ab") as log:
        process = subprocess.Popen(
            [str(nats_server_binary()), "-c", "nats-server.conf"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    yield f"nats://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
async def migrated_url(server_url: str) -> str:
    """The server once ``optbus bus migrate`` ran as the migrator."""
    async with asyncio.timeout(15.0):
        while True:
            with contextlib.suppress(Exception):
                await migrate_bus(server_url.replace("//", f"//migrator:{PASSWORD}@"))
                return server_url
            await asyncio.sleep(0.1)


async def connect_as(url: str, user: str) -> Client:
    """A connection as ``user``, retried while the server starts."""
    async with asyncio.timeout(15.0):
        while True:
            with contextlib.suppress(Exception):
                return await nats.connect(
                    url, user=user, password=PASSWORD, max_reconnect_attempts=0
                )
            await asyncio.sleep(0.1)


async def always_fails(batch: Sequence[Msg]) -> None:
    raise RuntimeError("cannot take it")


async def test_greeks_as_its_own_user_parks_a_message_past_max_deliver(migrated_url: str) -> None:
    greeks, market_data, operator = [
        await connect_as(migrated_url, user) for user in ("greeks", "market-data", "operator")
    ]
    [declared] = GREEKS.consumers
    spec = PullConsumerSpec(
        stream=declared.stream, subject=declared.subject, durable=declared.durable,
        idle_poll_seconds=0.5, max_deliver=2, backoff_seconds=(0.1,),
    )  # fmt: skip
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
    migrated_url: str,
) -> None:
    for topology in TOPOLOGIES:
        nc = await connect_as(migrated_url, topology.service)
        await check_streams(nc.jetstream(), topology.streams)
        await nc.close()


async def test_a_service_user_cannot_cap_the_trading_stream(migrated_url: str) -> None:
    market_data = await connect_as(migrated_url, "market-data")
    capped = (await market_data.jetstream().stream_info("MD")).config
    capped.name, capped.subjects, capped.max_msgs = "TRADING", ["strategy.>"], 1

    with pytest.raises(NatsTimeoutError):
        await market_data.jetstream(timeout=1.0).update_stream(capped)

    await market_data.close()
    operator = await connect_as(migrated_url, "operator")
    assert (await operator.jetstream().stream_info("TRADING")).config.max_msgs == -1
    await operator.close()


async def test_a_service_user_cannot_delete_the_dead_letter_stream(migrated_url: str) -> None:
    risk = await connect_as(migrated_url, "risk")

    with pytest.raises(NatsTimeoutError):
        await risk.jetstream(timeout=1.0).delete_stream("DLQ")

    await risk.close()
    operator = await connect_as(migrated_url, "operator")
    assert (await operator.jetstream().stream_info("DLQ")).config.name == "DLQ"
    await operator.close()


async def test_the_operator_may_ask_for_end_of_day_training(migrated_url: str) -> None:
    operator = await connect_as(migrated_url, "operator")

    ack = await operator.jetstream().publish(END_OF_DAY, b"{}", timeout=5.0)

    await operator.close()
    assert ack.stream == stream_of(END_OF_DAY).name


async def test_every_service_as_its_own_user_may_read_its_consumers_lag(migrated_url: str) -> None:
    async def answers() -> bool:
        return True

    for topology in TOPOLOGIES:
        nc = await connect_as(migrated_url, topology.service)
        specs = [PullConsumerSpec(stream=c.stream, subject=c.subject, durable=c.durable)
                 for c in topology.consumers]  # fmt: skip
        for spec in specs:
            await nc.jetstream().add_consumer(spec.stream, spec.config())
        monitor = DependencyMonitor(topology.service, {"nats": answers}, nc.jetstream, specs, 60)
        await monitor.poll()
        await nc.close()

        for spec in specs:
            labels = {"service": topology.service, "consumer": spec.durable}
            assert REGISTRY.get_sample_value("optbus_consumer_pending_messages", labels) == 0
