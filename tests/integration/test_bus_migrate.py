"""``optbus bus migrate`` makes what the services need, and a service meets a bus that is not
as declared by refusing to start, saying which stream or durable and which setting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import StreamConfig
from nats.js.errors import APIError
from structlog.testing import capture_logs
from typer.testing import CliRunner

from optbus import subjects
from optbus.runtime.migration import (
    check_streams,
    consumer_problems,
    declared_consumers,
    migrate_bus,
)
from optbus.runtime.service import STARTUP_FAILED_EXIT_CODE, serve
from optbus_cli.bus_migration import migrate
from optbus_cli.main import app
from optbus_cli.servers import LocalNats
from optbus_cli.topologies import TOPOLOGIES
from optbus_greeks.main import GreeksSettings, build_app

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

REFUSAL = "refusing to start: the bus is not as declared"


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[str]:
    """A fresh nats-server, never migrated."""
    server = LocalNats(tmp_path).start()
    yield server.url
    server.stop()


def bus_migrate(url: str) -> None:
    result = CliRunner().invoke(app, ["bus", "migrate", "--nats-url", url])
    assert result.exit_code == 0, result.output


async def stream_configs(url: str) -> dict[str, StreamConfig]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    names = [*subjects.STREAM_NAMES, f"KV_{subjects.KILLSWITCH_BUCKET}",
             f"OBJ_{subjects.MODELS_BUCKET}"]  # fmt: skip
    configs = {name: (await js.stream_info(name)).config for name in names}
    await nc.close()
    return configs


async def cap(url: str, stream: str) -> None:
    """What a login allowed to update streams once did: keep one message of ``stream``."""
    nc = await nats.connect(url)
    config = (await nc.jetstream().stream_info(stream)).config
    config.max_msgs = 1
    await nc.jetstream().update_stream(config)
    await nc.close()


def test_bus_migrate_creates_every_stream_and_bucket_the_services_check(bus: str) -> None:
    bus_migrate(bus)

    async def check_all() -> None:
        nc = await nats.connect(bus)
        for topology in TOPOLOGIES:
            await check_streams(nc.jetstream(), topology.streams)
        await nc.close()

    asyncio.run(check_all())
    assert set(asyncio.run(stream_configs(bus))) >= set(subjects.STREAM_NAMES)


def test_bus_migrate_again_changes_nothing(bus: str) -> None:
    bus_migrate(bus)
    before = asyncio.run(stream_configs(bus))

    bus_migrate(bus)

    assert asyncio.run(stream_configs(bus)) == before


def test_bus_migrate_brings_a_capped_stream_back_to_its_declaration(bus: str) -> None:
    bus_migrate(bus)
    asyncio.run(cap(bus, "TRADING"))

    bus_migrate(bus)

    assert asyncio.run(stream_configs(bus))["TRADING"].max_msgs == -1


def test_bus_migrate_says_why_when_nats_does_not_answer(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bus", "migrate", "--nats-url", "nats://127.0.0.1:1"])

    assert result.exit_code == 1
    assert "cannot reach NATS" in result.output


async def refusal_of_greeks(url: str) -> tuple[object, dict[str, Any]]:
    """Start greeks on ``url``, expecting it to refuse within seconds: its exit code and the
    log entry that says why."""
    settings = GreeksSettings(nats_url=url, http_port=0, graceful_timeout_seconds=1)
    app = build_app(settings)
    with capture_logs() as logs, pytest.raises(SystemExit) as exited:
        async with asyncio.timeout(20):
            await serve(app, settings)
    (refusal,) = [entry for entry in logs if entry["event"] == REFUSAL]
    return exited.value.code, refusal


async def test_a_service_on_a_drifted_stream_names_the_setting_and_refuses_to_start(
    bus: str,
) -> None:
    await migrate(bus)
    await cap(bus, "ANALYTICS")

    code, refusal = await refusal_of_greeks(bus)

    assert code == STARTUP_FAILED_EXIT_CODE
    assert refusal["problems"] == ["stream ANALYTICS: max_msgs is 1, declared -1"]
    assert refusal["fix"] == "run `optbus bus migrate`"


async def test_a_service_on_a_bus_never_migrated_names_the_missing_streams(bus: str) -> None:
    _, refusal = await refusal_of_greeks(bus)

    assert refusal["problems"] == [
        "stream MD is missing",
        "stream ANALYTICS is missing",
        "stream DLQ is missing",
    ]


APPEND_ONLY = [
    (spec.name, spec.subjects[0].replace(">", "it"))
    for spec in subjects.STREAMS
    if spec.append_only
]
"""The streams services rebuild their state from, and a subject of each."""


@pytest.mark.parametrize(("stream", "subject"), APPEND_ONLY)
async def test_a_message_of_an_append_only_stream_cannot_be_deleted_even_with_the_whole_api(
    own_nc: nats.NATS, stream: str, subject: str
) -> None:
    """The test's user may call every JetStream API (no accounts): the stream itself refuses."""
    js = own_nc.jetstream()
    ack = await js.publish(subject, b"recorded")

    with pytest.raises(APIError, match="not permitted"):
        await js.delete_msg(stream, ack.seq)

    assert (await js.get_msg(stream, ack.seq)).data == b"recorded"


@pytest.mark.parametrize(("stream", "subject"), APPEND_ONLY)
async def test_an_append_only_stream_cannot_be_purged_even_with_the_whole_api(
    own_nc: nats.NATS, stream: str, subject: str
) -> None:
    js = own_nc.jetstream()
    await js.publish(subject, b"recorded")

    with pytest.raises(APIError, match="not permitted"):
        await js.purge_stream(stream)

    assert (await js.stream_info(stream)).state.messages == 1


async def drift_durable(url: str, stream: str, durable: str, max_deliver: int) -> None:
    """What a login allowed to update durables could do: make one give up after
    ``max_deliver`` deliveries."""
    nc = await nats.connect(url)
    config = (await nc.jetstream().consumer_info(stream, durable)).config
    config.max_deliver = max_deliver
    await nc.jetstream().add_consumer(stream, config)
    await nc.close()


async def problems_of_every_durable(url: str) -> list[str]:
    nc = await nats.connect(url)
    problems = await consumer_problems(nc.jetstream(), declared_consumers(TOPOLOGIES))
    await nc.close()
    return problems


async def test_bus_migrate_creates_every_declared_durable_as_declared(bus: str) -> None:
    await migrate(bus)

    assert await problems_of_every_durable(bus) == []


async def test_bus_migrate_brings_a_drifted_durable_back_to_its_declaration(bus: str) -> None:
    await migrate(bus)
    await drift_durable(bus, "MD", "greeks", max_deliver=1)

    await migrate(bus)

    assert await problems_of_every_durable(bus) == []


async def test_a_service_on_a_drifted_durable_names_it_and_the_setting_and_refuses_to_start(
    bus: str,
) -> None:
    await migrate(bus)
    await drift_durable(bus, "MD", "greeks", max_deliver=1)

    code, refusal = await refusal_of_greeks(bus)

    assert code == STARTUP_FAILED_EXIT_CODE
    assert refusal["problems"] == ["consumer greeks on stream MD: max_deliver is 1, declared 10"]


async def test_a_service_whose_durable_is_missing_names_it_and_refuses_to_start(
    bus: str,
) -> None:
    await migrate(bus)
    nc = await nats.connect(bus)
    await nc.jetstream().delete_consumer("MD", "greeks")
    await nc.close()

    code, refusal = await refusal_of_greeks(bus)

    assert code == STARTUP_FAILED_EXIT_CODE
    assert refusal["problems"] == ["consumer greeks on stream MD is missing"]


async def test_a_new_durable_made_by_the_migration_delivers_what_came_after_the_migration(
    bus: str,
) -> None:
    nc = await nats.connect(bus)
    js = nc.jetstream()
    await migrate_bus(js)
    await js.publish(subjects.GREEKS_CHAINS.replace(">", "NIFTY.before"), b"{}")
    await migrate(bus)
    await js.publish(subjects.GREEKS_CHAINS.replace(">", "NIFTY.after"), b"{}")

    pending = (await js.consumer_info("ANALYTICS", "strategy-chains")).num_pending
    await nc.close()

    assert pending == 1
