"""Each broker's feed as market-data follows it (the adapter ``OPTBUS_MARKET_DATA_SOURCE`` names,
on its ``OPTBUS_<BROKER>_*`` settings) through the feed session, against the broker's local fake.

The session publishes into a list rather than onto the bus: what is under test is the broker's
protocol, the adapter and the session's checks; the service around them is tested on the bus
elsewhere. The fakes run on a replay clock the test moves a second per round of quotes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import Callable, Sequence

import pytest
from prometheus_client import REGISTRY

from optbus.clock import ReplayClock
from optbus.events import Event, OptionChainSnapshot
from optbus.market import load_market_facts
from optbus_brokers.backoff import Backoff
from optbus_brokers.feed import Instrument
from optbus_market_data.feeds.registry import feed_factory
from optbus_market_data.feeds.session import FeedConfig, FeedSession
from optbus_market_data.feeds.validation import frame_reason_label
from tests.brokers.quote_model import ModelQuote
from tests.brokers.venue_fakes import BROKERS, SPOTS, BrokerCase, FakeBroker

FACTS = load_market_facts()
SECOND = 1_000_000_000
CONFIG = FeedConfig(
    run_id="test-broker-feed", underlyings=("NIFTY",), strikes_each_side=5, expiries=1,
    conflation_seconds=0.05, stale_seconds=60.0, backoff=Backoff(0.05, 0.2),
)  # fmt: skip
UNLISTED_TOKEN = "99999"


def _dropped(broker: str, reason: str) -> float:
    labels = {"broker": broker, "reason": reason}
    return REGISTRY.get_sample_value("optbus_market_data_feed_dropped_total", labels) or 0.0


def _snapshots(published: list[Event]) -> list[OptionChainSnapshot]:
    return [e for e in published if isinstance(e, OptionChainSnapshot)]


def _atm_call(fake: FakeBroker) -> Instrument:
    """NIFTY's call of the nearest expiry at the strike nearest the fake's spot."""
    calls = [i for i in fake.instruments if i.underlying == "NIFTY" and i.kind == "call"]
    expiry = min(i.expiry for i in calls if i.expiry is not None)
    return min(
        (i for i in calls if i.expiry == expiry and i.strike is not None),
        key=lambda i: abs((i.strike or 0.0) - SPOTS["NIFTY"]),
    )


async def _quote_until(
    fake: FakeBroker, clock: ReplayClock, session: asyncio.Task[None], done: Callable[[], bool]
) -> None:
    """Rounds of quotes, a market second apart, until ``done`` (a session that ends fails)."""
    async with asyncio.timeout(30):
        while not done():
            if session.done():
                session.result()
                raise AssertionError("the feed session ended")
            clock.advance_to(clock.now_ns() + SECOND)
            await fake.quote_round()
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("case", BROKERS)
async def test_each_kind_of_malformed_frame_is_dropped_counted_by_reason_and_the_feed_goes_on(
    case: BrokerCase, market_clock: ReplayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with case.start(market_clock) as fake:
        for name, value in fake.environment.items():
            monkeypatch.setenv(name, value)
        published: list[Event] = []

        async def publish(events: Sequence[Event]) -> None:
            published.extend(events)

        feed = feed_factory(case.venue)(market_clock)
        session = FeedSession(feed, CONFIG, publish, FACTS, market_clock, random.Random(7))
        running = asyncio.create_task(session.run())
        try:
            await _quote_until(fake, market_clock, running, lambda: bool(_snapshots(published)))
            call = _atm_call(fake)
            quote = fake.quote(call)
            assert quote.ask is not None
            bad: dict[str, tuple[Instrument, ModelQuote, tuple[float, float] | None]] = {
                "empty_quote": (call, ModelQuote(0.0, 0.0, 0.0, 0, 0, 0, 0), None),
                "crossed": (call, dataclasses.replace(quote, bid=quote.ask + 1.0), None),
                "outside_circuit": (call, quote, (quote.ask * 2, quote.ask * 3)),
                "unknown_token": (dataclasses.replace(call, token=UNLISTED_TOKEN), quote, None),
            }
            reasons = [*bad, frame_reason_label(fake.truncated_reason)]
            before = {reason: _dropped(case.venue, reason) for reason in reasons}

            for instrument, bad_quote, circuits in bad.values():
                await fake.send_quote(instrument, bad_quote, circuits)
            await fake.send_truncated(call)

            def counted() -> bool:
                return all(_dropped(case.venue, r) > before[r] for r in reasons)

            await _quote_until(fake, market_clock, running, counted)
            published_then = len(_snapshots(published))
            await _quote_until(
                fake, market_clock, running, lambda: len(_snapshots(published)) > published_then
            )
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    assert {r: _dropped(case.venue, r) - before[r] for r in reasons} == dict.fromkeys(reasons, 1.0)
