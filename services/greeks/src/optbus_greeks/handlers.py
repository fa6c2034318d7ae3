"""The greeks handler: decode a batch of snapshots, enrich each, publish, then ack."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from nats.aio.msg import Msg
from prometheus_client import Histogram

from optbus import subjects
from optbus.clock import Clock
from optbus.codec import Decoder, UndecodableMessage
from optbus.events import ChainGreeks, Event, OptionChainSnapshot
from optbus.runtime.bus import DeadLetterOffice, EventPublisher
from optbus.runtime.metrics import MESSAGES_HANDLED
from optbus_greeks.domain import GreeksConfig, enrich_chain

_log = structlog.get_logger()

CHAIN_PRICING_SECONDS = Histogram(
    "optbus_greeks_chain_pricing_seconds",
    "Time to price one whole chain: forward, IVs, Greeks and aggregates",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
)

_snapshot_decoder = Decoder(OptionChainSnapshot)


@dataclass(frozen=True)
class GreeksDeps:
    """What the greeks handler needs, wired by the composition root."""

    service: str
    consumer: str
    config: GreeksConfig
    clock: Clock
    publisher: EventPublisher
    dead_letters: DeadLetterOffice


def price_snapshot(data: bytes, deps: GreeksDeps) -> ChainGreeks:
    """Decode and enrich one snapshot; ``UndecodableMessage`` when the input is bad."""
    snapshot = _snapshot_decoder.decode(data)
    started = time.perf_counter()
    try:
        enriched = enrich_chain(snapshot, deps.config, deps.clock)
    except (ValueError, KeyError) as exc:
        raise UndecodableMessage(f"cannot price chain: {exc}") from exc
    CHAIN_PRICING_SECONDS.observe(time.perf_counter() - started)
    return enriched


async def handle_snapshots(messages: Sequence[Msg], deps: GreeksDeps) -> None:
    """Enrich every snapshot of a batch; publish all results before acking any input."""
    published: list[tuple[str, Event]] = []
    priced: list[Msg] = []
    for msg in messages:
        try:
            chain = price_snapshot(msg.data, deps)
        except UndecodableMessage as exc:
            await deps.dead_letters.park(msg, exc.reason)
            MESSAGES_HANDLED.labels(deps.service, deps.consumer, "dead_lettered").inc()
            continue
        snap = chain.snapshot
        published.append((subjects.greeks_chain(snap.underlying, snap.expiry), chain))
        priced.append(msg)
    await deps.publisher.publish_all(published)
    for msg in priced:
        await msg.ack()
    MESSAGES_HANDLED.labels(deps.service, deps.consumer, "ok").inc(len(priced))
