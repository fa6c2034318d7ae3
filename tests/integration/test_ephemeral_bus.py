"""A replay's bus keeps its streams in memory, only until every consumer has acked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType

from optbus.runtime.migration import ensure_streams
from optbus_cli.servers import LocalNats

pytestmark = pytest.mark.integration


@pytest.fixture
async def js(tmp_path: Path) -> AsyncIterator[JetStreamContext]:
    server = LocalNats(tmp_path).start()
    nc = await nats.connect(server.url)
    yield nc.jetstream()
    await nc.close()
    server.stop()


async def test_an_ephemeral_bus_keeps_its_streams_in_memory(js: JetStreamContext) -> None:
    await ensure_streams(js, ephemeral=True)

    info = await js.stream_info("ANALYTICS")

    assert info.config.storage == StorageType.MEMORY


async def test_an_ephemeral_bus_forgets_a_message_every_consumer_acked(
    js: JetStreamContext,
) -> None:
    await ensure_streams(js, ephemeral=True)
    config = ConsumerConfig(durable_name="greeks", ack_policy=AckPolicy.EXPLICIT)
    subscription = await js.pull_subscribe("md.chain.>", "greeks", "MD", config=config)
    await js.publish("md.chain.NIFTY.2026-12-03", b"{}")

    [msg] = await subscription.fetch(1, timeout=5)
    await msg.ack_sync()

    assert (await js.stream_info("MD")).state.messages == 0


async def test_migrating_an_ephemeral_bus_again_leaves_its_streams_in_memory(
    js: JetStreamContext,
) -> None:
    await ensure_streams(js, ephemeral=True)

    await ensure_streams(js)

    assert (await js.stream_info("TRADING")).config.storage == StorageType.MEMORY


async def test_migrating_an_ephemeral_bus_again_keeps_interest_retention(
    js: JetStreamContext,
) -> None:
    await ensure_streams(js, ephemeral=True)

    await ensure_streams(js)

    assert (await js.stream_info("TRADING")).config.retention == RetentionPolicy.INTEREST


async def test_a_live_bus_keeps_its_streams_on_disk(js: JetStreamContext) -> None:
    await ensure_streams(js)

    info = await js.stream_info("TRADING")

    assert info.config.storage == StorageType.FILE
