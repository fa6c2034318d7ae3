"""The feed session's loop against a scripted in-memory broker feed (a unit test of the loop).

The adapters' own fakes speak each broker's real protocol; these tests pin the session's
behaviour on the port alone: login, resubscription after a drop, the gap it flags, a refused
login, and bad items counted rather than raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import pytest
from feed_builders import NIFTY_EXPIRIES, T0, TODAY, nifty_master, option_token, tick
from prometheus_client import REGISTRY

from optbus.clock import ReplayClock
from optbus.events import Event, FeedDataIssue, OptionChainSnapshot
from optbus.market import MarketFacts
from optbus_brokers.backoff import Backoff
from optbus_brokers.feed import (
    DroppedFrame,
    FeedDisconnected,
    FeedItem,
    FeedLoginFailed,
    Instrument,
)
from optbus_market_data.feeds.session import FeedConfig, FeedSession, FeedUnusable

SECOND = 1_000_000_000
CALL = option_token(NIFTY_EXPIRIES[0], 25_000.0, "call")
BROKER = "angel-one"


@dataclass
class ScriptedConnection:
    """Yields its items, then drops (``FeedDisconnected``), recording what was subscribed."""

    items_to_send: list[FeedItem]
    ends_session: bool = False
    subscribed: list[str] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)

    async def subscribe(self, instruments: Sequence[Instrument]) -> None:
        self.subscribed.extend(i.token for i in instruments)

    async def unsubscribe(self, instruments: Sequence[Instrument]) -> None:
        self.unsubscribed.extend(i.token for i in instruments)

    async def items(self) -> AsyncIterator[FeedItem]:
        for item in self.items_to_send:
            await asyncio.sleep(0)
            yield item
        await asyncio.sleep(0.05)  # let a flush happen before the drop
        if self.ends_session:
            raise FeedLoginFailed("scripted: session ended by the broker")
        raise FeedDisconnected("scripted drop")

    async def close(self) -> None:
        return None


@dataclass
class ScriptedFeed:
    """A broker whose every connection plays the next script; logins counted."""

    scripts: list[list[FeedItem]]
    master: list[Instrument] = field(default_factory=nifty_master)
    refuse_login: bool = False
    unreachable_logins: int = 0
    expire_first_connect: bool = False
    end_first_session: bool = False
    logins: int = 0
    connections: list[ScriptedConnection] = field(default_factory=list)

    name: str = BROKER
    max_subscriptions: int = 1_000

    async def login(self) -> None:
        self.logins += 1
        if self.logins <= self.unreachable_logins:
            raise FeedDisconnected("scripted: broker unreachable")
        if self.refuse_login:
            raise FeedLoginFailed("scripted refusal")

    async def load_instruments(self) -> list[Instrument]:
        return self.master

    async def connect(self) -> ScriptedConnection:
        if self.expire_first_connect and not self.connections:
            self.expire_first_connect = False
            raise FeedLoginFailed("session expired")
        script = self.scripts[min(len(self.connections), len(self.scripts) - 1)]
        ends = self.end_first_session and not self.connections
        connection = ScriptedConnection(list(script), ends_session=ends)
        self.connections.append(connection)
        return connection


def market(ts: int, spot: float = 25_010.0) -> list[FeedItem]:
    return [tick("NIFTY", ts, last=spot, bid=None, ask=None, bid_size=0, ask_size=0),
            tick("NIFTYFUT", ts, last=spot + 70), tick(CALL, ts)]  # fmt: skip


CONFIG = FeedConfig(
    run_id="test", underlyings=("NIFTY",), strikes_each_side=15, expiries=1,
    conflation_seconds=0.01, stale_seconds=10.0, backoff=Backoff(0.001, 0.002),
)  # fmt: skip


class BusDown(Exception):
    """The bus refused a publication for good."""


def session_now(facts: MarketFacts) -> int:
    """The time on the session's clock (it stands still): an hour into today's session."""
    return facts.session_open_ns(TODAY) + 3_600 * SECOND


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"broker": BROKER}) or 0.0


async def run_until(
    feed: ScriptedFeed, facts: MarketFacts, done: Callable[[list[Event]], object],
    bus_down: bool = False, underlyings: tuple[str, ...] = ("NIFTY",),
) -> list[Event]:  # fmt: skip
    """Run a session until ``done`` holds for what it published (a hang fails the test)."""
    published: list[Event] = []

    async def publish(events: Sequence[Event]) -> None:
        if bus_down and events:
            raise BusDown
        published.extend(events)

    clock = ReplayClock(session_now(facts))
    config = dataclasses.replace(CONFIG, underlyings=underlyings)
    session = FeedSession(feed, config, publish, facts, clock, random.Random(3))
    task = asyncio.create_task(session.run())
    try:
        async with asyncio.timeout(30):
            while not done(published):
                if task.done():
                    task.result()
                await asyncio.sleep(0.005)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return published


def issues(published: list[Event], kind: str) -> list[FeedDataIssue]:
    return [e for e in published if isinstance(e, FeedDataIssue) and e.kind == kind]


def snapshots(published: list[Event]) -> list[OptionChainSnapshot]:
    return [e for e in published if isinstance(e, OptionChainSnapshot)]


async def test_a_refused_login_ends_the_session_without_connecting(facts: MarketFacts) -> None:
    feed = ScriptedFeed([market(T0)], refuse_login=True)

    with pytest.raises(FeedLoginFailed):
        await run_until(feed, facts, lambda _: False)
    assert feed.connections == []


async def test_a_broker_unreachable_at_start_is_tried_again(facts: MarketFacts) -> None:
    feed = ScriptedFeed([market(T0)], unreachable_logins=2)

    await run_until(feed, facts, snapshots)

    assert feed.logins == 3


async def test_a_publication_that_fails_for_good_ends_the_session(facts: MarketFacts) -> None:
    feed = ScriptedFeed([market(T0)])

    with pytest.raises(BusDown):
        await run_until(feed, facts, lambda _: False, bus_down=True)


async def test_an_underlying_without_contract_data_ends_the_session_before_login(
    facts: MarketFacts,
) -> None:
    feed = ScriptedFeed([market(T0)])

    with pytest.raises(FeedUnusable, match="SENSEX"):
        await run_until(feed, facts, lambda _: False, underlyings=("SENSEX",))
    assert feed.logins == 0


async def test_quotes_become_chain_snapshots_of_31_strikes(facts: MarketFacts) -> None:
    published = await run_until(ScriptedFeed([market(T0)]), facts, snapshots)

    [first, *_] = snapshots(published)
    assert (len(first.strikes), first.spot, first.ts_event) == (31, 25_010.0, T0)


async def test_the_first_index_quote_subscribes_the_strike_window(facts: MarketFacts) -> None:
    feed = ScriptedFeed([market(T0)])

    await run_until(feed, facts, snapshots)

    assert len(feed.connections[0].subscribed) == 2 + 2 * 31


async def test_after_a_drop_the_session_reconnects_and_resubscribes_the_plan(
    facts: MarketFacts,
) -> None:
    feed = ScriptedFeed([market(T0), market(T0 + 5 * SECOND)])

    await run_until(feed, facts, lambda p: bool(issues(p, "gap")))

    assert set(feed.connections[1].subscribed) == set(feed.connections[0].subscribed)


async def test_a_drop_is_flagged_as_a_gap_spanning_the_missing_exchange_time(
    facts: MarketFacts,
) -> None:
    feed = ScriptedFeed([market(T0), market(T0 + 5 * SECOND)])

    published = await run_until(feed, facts, lambda p: bool(issues(p, "gap")))

    [gap] = issues(published, "gap")
    assert (gap.span_start, gap.span_end, gap.broker) == (T0, T0 + 5 * SECOND, BROKER)


async def test_an_expired_session_logs_in_again_before_connecting(facts: MarketFacts) -> None:
    feed = ScriptedFeed([market(T0)], expire_first_connect=True)

    await run_until(feed, facts, snapshots)

    assert feed.logins == 2


async def test_a_session_the_broker_ends_mid_stream_is_logged_in_again(
    facts: MarketFacts,
) -> None:
    feed = ScriptedFeed([market(T0), market(T0 + 5 * SECOND)], end_first_session=True)

    await run_until(feed, facts, lambda p: bool(issues(p, "gap")))

    assert (feed.logins, len(feed.connections)) == (2, 2)


async def test_bad_items_are_counted_by_reason_and_the_session_goes_on(
    facts: MarketFacts,
) -> None:
    def dropped(reason: str) -> float:
        labels = {"broker": BROKER, "reason": reason}
        return REGISTRY.get_sample_value("optbus_market_data_feed_dropped_total", labels) or 0.0

    before = (dropped("crossed"), dropped("truncated"), dropped("unknown_token"))
    bad: list[FeedItem] = [tick(CALL, T0, bid=101.0, ask=100.0), DroppedFrame("truncated"),
                           tick("nope", T0)]  # fmt: skip
    feed = ScriptedFeed([[*bad, *market(T0)]])

    await run_until(feed, facts, snapshots)

    after = (dropped("crossed"), dropped("truncated"), dropped("unknown_token"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [1.0, 1.0, 1.0]


async def test_a_master_disagreeing_with_the_contract_data_is_reported_on_the_bus(
    facts: MarketFacts,
) -> None:
    feed = ScriptedFeed([market(T0)], master=nifty_master(lot_size=75))

    published = await run_until(feed, facts, lambda p: bool(issues(p, "instrument-mismatch")))

    assert "lot size [75]" in issues(published, "instrument-mismatch")[0].detail


async def test_each_reconnection_after_a_drop_is_counted(facts: MarketFacts) -> None:
    before = metric("optbus_market_data_feed_reconnects_total")
    feed = ScriptedFeed([market(T0), market(T0 + 5 * SECOND)])

    await run_until(feed, facts, lambda p: bool(issues(p, "gap")))

    reconnects = metric("optbus_market_data_feed_reconnects_total") - before
    assert reconnects == len(feed.connections) - 1 >= 1


async def test_each_gap_flagged_is_counted(facts: MarketFacts) -> None:
    before = metric("optbus_market_data_feed_gaps_total")
    feed = ScriptedFeed([market(T0), market(T0 + 5 * SECOND)])

    published = await run_until(feed, facts, lambda p: bool(issues(p, "gap")))

    gaps = metric("optbus_market_data_feed_gaps_total") - before
    assert gaps == len(issues(published, "gap")) >= 1


async def test_feed_latency_is_measured_from_the_exchange_time_to_publication(
    facts: MarketFacts,
) -> None:
    latency = "optbus_market_data_feed_latency_seconds"
    before = (metric(f"{latency}_count"), metric(f"{latency}_sum"))
    quarter_second_old = session_now(facts) - SECOND // 4
    feed = ScriptedFeed([market(quarter_second_old)])

    published = await run_until(feed, facts, snapshots)

    count = metric(f"{latency}_count") - before[0]
    seconds = metric(f"{latency}_sum") - before[1]
    assert count == len(snapshots(published)) >= 1
    assert seconds == pytest.approx(0.25 * count)


def chain_tokens(strikes: Sequence[float]) -> set[str]:
    """The call and put tokens of the near expiry at ``strikes``."""
    return {option_token(NIFTY_EXPIRIES[0], s, kind) for s in strikes for kind in ("call", "put")}


async def test_a_spot_move_past_a_strike_moves_the_window_on_the_connection(
    facts: MarketFacts,
) -> None:
    # Room for exactly the index, the future and 31 strikes of calls and puts: a move must swap.
    feed = ScriptedFeed([[*market(T0), *market(T0 + SECOND, spot=25_260.0)]], max_subscriptions=64)

    await run_until(feed, facts, lambda _: any(c.unsubscribed for c in feed.connections))

    first = feed.connections[0]
    moved_out, moved_in = (
        chain_tokens([24_250.0 + 50 * i for i in range(5)]),
        chain_tokens([25_800.0 + 50 * i for i in range(5)]),
    )
    assert (set(first.unsubscribed), set(first.subscribed[2 + 62 :])) == (moved_out, moved_in)
    assert len(set(first.subscribed) - set(first.unsubscribed)) == 64


async def test_a_plan_over_the_brokers_limit_narrows_the_window_and_says_so_on_the_bus(
    facts: MarketFacts,
) -> None:
    feed = ScriptedFeed([market(T0)], max_subscriptions=40)

    published = await run_until(feed, facts, lambda p: bool(issues(p, "subscription-limit")))

    [limit] = issues(published, "subscription-limit")
    assert "limit of 40 subscriptions allows ±9 strikes, not the ±15" in limit.detail
    assert len(feed.connections[0].subscribed) == 2 + 2 * (2 * 9 + 1)
