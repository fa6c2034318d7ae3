"""The feed session: a broker adapter's stream, followed, validated, conflated, onto the bus.

The thin I/O loop around the pure modules of this package. It logs in (a refused login ends
the session: ``FeedLoginFailed`` propagates, retrying would not help), loads and cross-checks
the instrument master, subscribes to the plan, and consumes the stream; a flusher publishes the
conflated snapshots every interval. When the stream drops it reconnects with capped, jittered
exponential backoff (logging in again when the session has expired), resubscribes to the
current plan, and flags the gap once the first quote after it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date

import msgspec
import structlog

from optbus.clock import Clock
from optbus.events import Event, FeedDataIssue, FeedIssueKind
from optbus.ids import derived_event_id
from optbus.market import MarketFacts, MarketFactsError
from optbus_brokers.backoff import Backoff
from optbus_brokers.feed import (
    BrokerFeed,
    DroppedFrame,
    FeedConnection,
    FeedDisconnected,
    FeedItem,
    FeedLoginFailed,
    Instrument,
)
from optbus_market_data.feeds import metrics
from optbus_market_data.feeds.conflation import ChainBook
from optbus_market_data.feeds.crosscheck import cross_check
from optbus_market_data.feeds.plan import (
    PlanLimits,
    SubscriptionPlan,
    UnderlyingListing,
    list_underlyings,
    plan_changes,
    plan_subscriptions,
)
from optbus_market_data.feeds.validation import drop_reason, frame_reason_label

_log = structlog.get_logger()
_NS_PER_SECOND = 1_000_000_000

Publish = Callable[[Sequence[Event]], Awaitable[None]]


class FeedUnusable(Exception):
    """The configured feed cannot be followed: an underlying optbus has no contract data for,
    or one the broker's master lists no index for."""


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """What the session follows and how: from the market-data settings."""

    run_id: str
    underlyings: tuple[str, ...]
    strikes_each_side: int
    expiries: int
    conflation_seconds: float
    stale_seconds: float
    backoff: Backoff


class FeedSession:
    """One broker feed, from login until the service stops."""

    def __init__(
        self, feed: BrokerFeed, config: FeedConfig, publish: Publish, facts: MarketFacts,
        clock: Clock, rng: random.Random,
    ) -> None:  # fmt: skip
        self._feed = feed
        self._broker = feed.name
        self._config = config
        self._publish = publish
        self._facts = facts
        self._clock = clock
        self._rng = rng
        self._book = ChainBook(config.run_id, int(config.stale_seconds * _NS_PER_SECOND))
        self._limits = PlanLimits(config.strikes_each_side, config.expiries, feed.max_subscriptions)
        self._known: dict[str, Instrument] = {}
        self._listings: dict[str, UnderlyingListing] = {}
        self._spots: dict[str, float] = {}
        self._plan = SubscriptionPlan(indexes={}, futures={}, chains={}, strikes_each_side=0)
        self._followed: dict[str, Instrument] = {}
        self._last_exchange_ns: int | None = None
        self._gap_since_ns: int | None = None
        self._issues = 0
        self._limit_reported = False
        self._session_expired = False

    async def run(self) -> None:
        """Follow the feed until cancelled; raises ``FeedLoginFailed`` on refused credentials."""
        today = self._facts.local_date(self._clock.now_ns())
        try:
            for underlying in self._config.underlyings:
                self._facts.contract(underlying, today)
        except MarketFactsError as exc:
            raise FeedUnusable(str(exc)) from exc
        instruments = await self._start()
        self._known = {i.token: i for i in instruments}
        await self._report_disagreements(instruments, today)
        self._listings = list_underlyings(
            instruments, self._config.underlyings, today, self._config.expiries
        )
        missing = [u for u, listing in self._listings.items() if listing.index is None]
        if missing:
            raise FeedUnusable(f"the broker's instrument master lists no index for {missing}")
        self._plan = plan_subscriptions(self._listings, self._spots, self._limits)
        attempt = 0
        while True:
            connection = await self._connect()
            if connection is not None:
                if await self._follow(connection):
                    attempt = 0
                if self._gap_since_ns is None:  # a drop while a gap is open extends that gap
                    self._gap_since_ns = self._last_exchange_ns or self._clock.now_ns()
            delay = self._config.backoff.delay(attempt, self._rng)
            attempt += 1
            _log.warning("broker feed down; reconnecting", broker=self._broker, in_seconds=delay)
            await asyncio.sleep(delay)
            metrics.RECONNECTS.labels(self._broker).inc()

    async def _start(self) -> list[Instrument]:
        """Log in and load the instrument master, riding out a broker that is unreachable."""
        attempt = 0
        while True:
            try:
                await self._feed.login()
                return await self._feed.load_instruments()
            except (FeedDisconnected, OSError) as exc:
                delay = self._config.backoff.delay(attempt, self._rng)
                _log.warning("broker unreachable at start; retrying", broker=self._broker,
                             error=repr(exc), in_seconds=delay)  # fmt: skip
                await asyncio.sleep(delay)
                attempt += 1

    async def _connect(self) -> FeedConnection | None:
        """A new connection, logging in again when the session has expired; None if down.

        A login refused now is final (``FeedLoginFailed`` propagates); so is a connection
        refused right after a fresh login.
        """
        try:
            if self._session_expired:
                await self._feed.login()
            try:
                connection = await self._feed.connect()
            except FeedLoginFailed:  # the session expired since the last login
                await self._feed.login()
                connection = await self._feed.connect()
        except (FeedDisconnected, OSError) as exc:
            _log.warning("broker feed connect failed", broker=self._broker, error=repr(exc))
            return None
        self._session_expired = False
        return connection

    async def _follow(self, connection: FeedConnection) -> bool:
        """Subscribe and consume until the stream drops; whether any quote came.

        The flusher runs beside the stream; if publishing fails for good, its error ends the
        session rather than leave a stream nobody publishes.
        """
        self._followed = {}
        consumer = asyncio.create_task(self._consume(connection))
        flusher = asyncio.create_task(self._flush_every_interval())
        try:
            await asyncio.wait({consumer, flusher}, return_when=asyncio.FIRST_COMPLETED)
            if flusher.done():
                flusher.result()  # it only ends by failing: raise that
            return consumer.result()
        finally:
            for task in (consumer, flusher):
                task.cancel()
            await asyncio.gather(consumer, flusher, return_exceptions=True)
            with contextlib.suppress(Exception):
                await connection.close()

    async def _consume(self, connection: FeedConnection) -> bool:
        heard = False
        try:
            await self._apply_plan(connection, self._plan)
            async for item in connection.items():
                heard = await self._take(item, connection) or heard
        except (FeedDisconnected, OSError) as exc:
            _log.warning("broker feed dropped", broker=self._broker, error=repr(exc))
        except FeedLoginFailed as exc:
            _log.warning("broker ended the session; logging in again", broker=self._broker,
                         error=repr(exc))  # fmt: skip
            self._session_expired = True
        return heard

    async def _take(self, item: FeedItem, connection: FeedConnection) -> bool:
        """Validate and book one item; whether it was a usable quote."""
        if isinstance(item, DroppedFrame):
            metrics.DROPPED.labels(self._broker, frame_reason_label(item.reason)).inc()
            return False
        reason = drop_reason(item, self._known)
        if reason is not None:
            metrics.DROPPED.labels(self._broker, reason).inc()
            return False
        instrument = self._known[item.token]
        self._book.apply(item, instrument)
        if self._gap_since_ns is not None:
            self._book.note_gap(item.ts_exchange_ns)
            await self._flag_gap(self._gap_since_ns, item.ts_exchange_ns)
            self._gap_since_ns = None
        self._last_exchange_ns = max(self._last_exchange_ns or 0, item.ts_exchange_ns)
        if instrument.kind == "index" and instrument.underlying in self._listings:
            self._spots[instrument.underlying] = item.last
            await self._apply_plan(
                connection,
                plan_subscriptions(self._listings, self._spots, self._limits, self._plan),
            )
        return True

    async def _apply_plan(self, connection: FeedConnection, plan: SubscriptionPlan) -> None:
        """Follow ``plan`` on ``connection``: subscribe what is new, drop what is not followed."""
        self._plan = plan
        wanted = plan.instruments()
        added, removed = plan_changes(self._followed, wanted)
        if not added and not removed:
            return
        if removed:
            await connection.unsubscribe(removed)
        if added:
            await connection.subscribe(added)
        self._followed = wanted
        metrics.SUBSCRIPTIONS.labels(self._broker).set(len(wanted))
        if plan.chains and plan.strikes_each_side < self._config.strikes_each_side:
            await self._report_limit(plan.strikes_each_side)

    async def _flush_every_interval(self) -> None:
        while True:
            await asyncio.sleep(self._config.conflation_seconds)
            flush = self._book.flush(self._plan)
            metrics.STALE_CONTRACTS.labels(self._broker).inc(len(flush.newly_stale))
            await self._publish([
                self._issue("stale-contract", instrument.underlying,
                            f"{instrument.symbol} (token {instrument.token}) has had no quote "
                            f"for over {self._config.stale_seconds:g} s")
                for instrument in flush.newly_stale
            ])  # fmt: skip
            if not flush.snapshots:
                continue
            now = self._clock.now_ns()
            await self._publish([msgspec.structs.replace(s, ts_init=now) for s in flush.snapshots])
            for snapshot in flush.snapshots:
                latency = max(now - snapshot.ts_event, 0) / _NS_PER_SECOND
                metrics.FEED_LATENCY.labels(self._broker).observe(latency)

    async def _report_disagreements(self, instruments: list[Instrument], today: date) -> None:
        for finding in cross_check(instruments, self._config.underlyings, self._facts, today):
            metrics.INSTRUMENT_MISMATCHES.labels(self._broker).inc()
            _log.error("the broker's instrument master disagrees with optbus's contract data",
                       broker=self._broker, underlying=finding.underlying,
                       detail=finding.detail)  # fmt: skip
            issue = self._issue("instrument-mismatch", finding.underlying, finding.detail)
            await self._publish([issue])

    async def _report_limit(self, width: int) -> None:
        if self._limit_reported:
            return
        self._limit_reported = True
        detail = (
            f"the broker's limit of {self._feed.max_subscriptions} subscriptions allows "
            f"±{width} strikes, not the ±{self._config.strikes_each_side} configured"
        )
        _log.warning("strike window narrowed", broker=self._broker, detail=detail)
        await self._publish([self._issue("subscription-limit", None, detail)])

    async def _flag_gap(self, since_ns: int, until_ns: int) -> None:
        metrics.GAPS.labels(self._broker).inc()
        seconds = max(until_ns - since_ns, 0) / _NS_PER_SECOND
        _log.warning("broker feed gap", broker=self._broker, seconds=seconds)
        gap = self._issue("gap", None, f"no data for {seconds:.3f} s after a drop",
                          span_start=since_ns, span_end=max(until_ns, since_ns))  # fmt: skip
        await self._publish([gap])

    def _issue(
        self, kind: FeedIssueKind, underlying: str | None, detail: str,
        span_start: int | None = None, span_end: int | None = None,
    ) -> FeedDataIssue:  # fmt: skip
        self._issues += 1
        now = self._clock.now_ns()
        return FeedDataIssue(
            event_id=derived_event_id(self._config.run_id, "feed-issue", now, self._issues),
            ts_event=self._last_exchange_ns or now,
            ts_init=now,
            broker=self._broker,
            kind=kind,
            underlying=underlying,
            detail=detail,
            span_start=span_start,
            span_end=span_end,
        )
