"""Run a backtest: market steps in, through the live handlers on an in-memory bus, trades out.

One BacktestClock is advanced to each market event's ``ts_event`` before the event is
published, and every ``ts_init`` (the market events' included) is read from it, so the same
input gives a byte-identical trade log. A handler that moves the clock back, or an event
consumed before its time, raises ClockWentBackwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import msgspec

from optbus.events import Event, Fill, OptionChainSnapshot
from optbus.market import MarketFacts
from optbus_backtest.bus import InMemoryBus
from optbus_backtest.clock import BacktestClock
from optbus_backtest.config import BacktestConfig
from optbus_backtest.marks import MarkPoint, MarkRecorder
from optbus_backtest.origins import QuoteOrigins
from optbus_backtest.summary import TradeSummary, summarise
from optbus_backtest.tradelog import TradeLog
from optbus_backtest.wiring import Services, build_services, wire

StepCallback = Callable[[int, int], None]
"""Called after each market step with the step's index and its market time (ns)."""


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """What a run produced: the trade log, its hash, the figures and the pace."""

    run_id: str
    trade_log: TradeLog
    summary: TradeSummary
    steps: int
    market_events: int
    option_quotes: int
    quote_origins: QuoteOrigins
    first_ts_ns: int
    last_ts_ns: int
    wall_seconds: float
    services: Services
    marks: list[MarkPoint]

    @property
    def trade_log_sha256(self) -> str:
        """The hex sha256 of the JSON-lines trade log."""
        return self.trade_log.sha256()

    @property
    def market_seconds(self) -> float:
        """The span of market time replayed, in seconds."""
        return (self.last_ts_ns - self.first_ts_ns) / 1e9


@dataclass(slots=True)
class _Counts:
    steps: int = 0
    events: int = 0
    first_ts_ns: int = 0
    last_ts_ns: int = 0


def _restamped(event: Event, clock: BacktestClock) -> Event:
    """The market event at replay time: clock moved to its ``ts_event``, ``ts_init`` from it."""
    clock.advance_to(event.ts_event)
    return msgspec.structs.replace(event, ts_init=clock.now_ns())


class Backtest:
    """The live handlers wired to an in-memory bus on one replay clock, ready to replay.

    ``bus`` is exposed so that a test can subscribe a handler of its own beside the live ones.
    """

    def __init__(
        self,
        config: BacktestConfig,
        facts: MarketFacts,
        clock: BacktestClock | None = None,
    ) -> None:
        self.config = config
        self.facts = facts
        self.clock = clock if clock is not None else BacktestClock()
        self.bus = InMemoryBus(self.clock)
        self.services = build_services(config, self.facts, self.clock)
        wire(self.bus, self.services, config, self.facts, self.clock)

    def run(
        self, steps: Iterable[Sequence[Event]], on_step: StepCallback | None = None
    ) -> BacktestResult:
        """Replay ``steps`` (lists of market events in time order) through the handlers."""
        log, marks, counts, origins = TradeLog(), MarkRecorder(), _Counts(), QuoteOrigins()

        def on_published(subject: str, event: Event) -> None:
            if isinstance(event, Fill):
                origins.record_fill(event)
            log.record(subject, event)
            marks.record(subject, event)

        started = time.perf_counter()
        for step in steps:
            _replay_step(step, self.bus, self.clock, origins, on_published)
            counts.events += len(step)
            if step:
                counts.first_ts_ns = counts.first_ts_ns or step[0].ts_event
                counts.last_ts_ns = step[-1].ts_event
            if on_step is not None:
                on_step(counts.steps, self.clock.now_ns())
            counts.steps += 1
        return BacktestResult(
            run_id=self.config.run_id,
            trade_log=log,
            summary=summarise(log.events),
            steps=counts.steps,
            market_events=counts.events,
            option_quotes=origins.quotes,
            quote_origins=origins,
            first_ts_ns=counts.first_ts_ns,
            last_ts_ns=counts.last_ts_ns,
            wall_seconds=time.perf_counter() - started,
            services=self.services,
            marks=marks.points,
        )


def run_backtest(
    steps: Iterable[Sequence[Event]],
    config: BacktestConfig,
    *,
    facts: MarketFacts,
    on_step: StepCallback | None = None,
) -> BacktestResult:
    """Replay ``steps`` (lists of market events in time order) through the live handlers."""
    return Backtest(config, facts).run(steps, on_step)


def _replay_step(
    step: Sequence[Event],
    bus: InMemoryBus,
    clock: BacktestClock,
    origins: QuoteOrigins,
    on_published: Callable[[str, Event], None],
) -> None:
    """Publish one step's market events one at a time, delivering all each one causes."""
    for event in step:
        if isinstance(event, OptionChainSnapshot):
            origins.observe(event)
        bus.publish(_restamped(event, clock))
        bus.drain(on_published)
