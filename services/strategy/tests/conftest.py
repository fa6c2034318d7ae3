"""Fixtures of the strategy tests: realistic chains with Greeks, a paper fill, strategy builders.

Chains come either from Black-76 with a smile (``make_chain``: fast, every input chosen) or
from the market-data simulator enriched by the greeks domain (``simulated_day``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import msgspec
import numpy as np
import pytest

from optbus.clock import ReplayClock
from optbus.events import (
    ChainGreeks,
    ChainSide,
    Event,
    MarketContext,
    OptionChainSnapshot,
    OrderIntent,
    Position,
    PositionClosed,
    PositionOpened,
)
from optbus.ids import derived_event_id
from optbus.market import MarketFacts, load_market_facts
from optbus.pricing import black76_price, time_to_expiry_years
from optbus.scoring import BaselineScorer
from optbus_greeks.domain import GreeksConfig, enrich_chain
from optbus_market_data.simulator import NIFTY, ChainSimulator, SimulatorConfig
from optbus_strategy.base import Strategy
from optbus_strategy.engine import StrategyEngine
from optbus_strategy.params import StrategySpec
from optbus_strategy.registry import default_registry

FACTS = load_market_facts()
EXPIRY = date(2026, 12, 8)
RATE = 0.065
INIT_NS = 1_790_000_000_000_000_000

MakeChain = Callable[..., ChainGreeks]
MakeStrategy = Callable[..., Strategy]
Fill = Callable[[Iterable[Any]], list[Event]]
Intents = Callable[[Iterable[Any]], list[OrderIntent]]
Enter = Callable[..., list[OrderIntent]]


def _quotes(model: np.ndarray, spread: float, oi: int) -> ChainSide:
    half = np.maximum(np.round(model * spread / 2 / 0.05) * 0.05, 0.05)
    mid = np.round(model / 0.05) * 0.05
    bid = np.where(mid - half > 0, mid - half, 0.0)
    ask = np.where(bid > 0, mid + half, 0.05)
    n = len(model)
    return ChainSide(
        bid=np.round(bid, 2).tolist(), ask=np.round(ask, 2).tolist(),
        last=np.round(mid, 2).tolist(), bid_size=[650] * n, ask_size=[650] * n,
        volume=[1_000] * n, open_interest=[oi] * n,
    )  # fmt: skip


def build_chain(
    *,
    day: date = date(2026, 12, 2),
    minutes: float = 90.0,
    spot: float = 26_000.0,
    vol: float = 0.14,
    skew: float = -0.15,
    spread: float = 0.01,
    underlying: str = "NIFTY",
    expiry: date = EXPIRY,
    strikes_per_side: int = 30,
    event_id: str | None = None,
    oi: int = 100_000,
) -> ChainGreeks:
    """A chain priced by Black-76 with a skewed smile, quoted around the model and enriched."""
    ts = FACTS.session_open_ns(day) + int(minutes * 60e9)
    spec = FACTS.contract(underlying, day)
    t = time_to_expiry_years(ts, FACTS.expiry_close_ns(expiry))
    forward = spot * float(np.exp((RATE - 0.012) * t))
    atm = round(forward / spec.strike_step) * spec.strike_step
    strikes = atm + spec.strike_step * np.arange(-strikes_per_side, strikes_per_side + 1)
    log_m = np.log(strikes / forward)
    vols = np.maximum(vol + skew * log_m + 2.0 * log_m**2, 0.03)
    calls = np.asarray(black76_price(True, forward, strikes, t, RATE, vols))
    puts = np.asarray(black76_price(False, forward, strikes, t, RATE, vols))
    snapshot = OptionChainSnapshot(
        event_id=event_id or f"chain-{underlying}-{day}-{minutes}-{spot}-{vol}",
        ts_event=ts, ts_init=ts, underlying=underlying, expiry=expiry, spot=spot,
        futures=forward, lot_size=spec.lot_size, strikes=strikes.tolist(),
        calls=_quotes(calls, spread, oi), puts=_quotes(puts, spread, oi),
    )  # fmt: skip
    config = GreeksConfig(rate_at=lambda _ts: RATE, expiry_close_ns=FACTS.expiry_close_ns)
    return enrich_chain(snapshot, config, ReplayClock(ts))


@pytest.fixture(scope="session")
def facts() -> MarketFacts:
    return FACTS


@pytest.fixture(scope="session")
def make_chain() -> MakeChain:
    return build_chain


@pytest.fixture
def make_strategy() -> MakeStrategy:
    """Build a strategy of a kind with parameters (defaults overridden by keywords)."""

    def make(kind: str, underlyings: tuple[str, ...] = ("NIFTY",), **params: Any) -> Strategy:
        registry = default_registry()
        typed = msgspec.convert(params, type=registry.kind(kind).params_type)
        spec = StrategySpec(name=kind, kind=kind, underlyings=underlyings, params=typed)
        return registry.build(spec)

    return make


@pytest.fixture
def make_engine() -> Callable[..., StrategyEngine]:
    def make(*strategies: Strategy, scorer: Any = None) -> StrategyEngine:
        return StrategyEngine(strategies, scorer or BaselineScorer(), FACTS, ReplayClock(INIT_NS))

    return make


@pytest.fixture
def strategy_engine(make_strategy: MakeStrategy) -> Callable[..., StrategyEngine]:
    """An engine running one strategy of ``kind``: ``defaults`` overridden by keywords."""

    def make(kind: str, defaults: dict[str, Any], **params: Any) -> StrategyEngine:
        strategy = make_strategy(kind, **{**defaults, **params})
        return StrategyEngine([strategy], BaselineScorer(), FACTS, ReplayClock(INIT_NS))

    return make


def order_intents(outputs: Iterable[Any]) -> list[OrderIntent]:
    """The order intents among a strategy's outputs."""
    return [o for o in outputs if isinstance(o, OrderIntent)]


def enter(engine: StrategyEngine, *chains: ChainGreeks) -> list[OrderIntent]:
    """Hand ``chains`` to the engine in order, fill every intent at once; the intents made."""
    outputs = [output for chain in chains for output in engine.on_chain(chain)]
    for event in paper_fill(outputs):
        engine.handle(event)
    return order_intents(outputs)


@pytest.fixture(scope="session")
def intents() -> Intents:
    return order_intents


@pytest.fixture(scope="session")
def entered() -> Enter:
    return enter


def _context(ts: int, price: float) -> MarketContext:
    return MarketContext(
        ts=ts, option_price=price, iv=None, delta=None, gamma=None, theta=None, vega=None,
        spot=0.0, forward=0.0, india_vix=None, pcr=None, open_interest=0,
    )  # fmt: skip


def paper_fill(outputs: Iterable[Any]) -> list[Event]:
    """Position events for every intent, as if each leg filled at once at its limit price."""
    events: list[Event] = []
    for intent in outputs:
        if not isinstance(intent, OrderIntent):
            continue
        if intent.purpose == "close":
            events.extend(
                PositionClosed(event_id=derived_event_id(pid, "closed"), ts_event=intent.ts_event,
                               ts_init=intent.ts_event, position_id=pid)
                for pid in intent.position_ids
            )  # fmt: skip
            continue
        for number, leg in enumerate(intent.legs):
            price = leg.limit_price or 0.0
            position = Position(
                position_id=derived_event_id(intent.intent_id, number), strategy=intent.strategy,
                group_id=intent.group_id, contract=leg.contract,
                quantity=leg.quantity if leg.side == "BUY" else -leg.quantity,
                average_price=price, entry=_context(intent.ts_event, price), model=intent.model,
                charges=0.0,
            )  # fmt: skip
            events.append(PositionOpened(event_id=derived_event_id(position.position_id),
                                         ts_event=intent.ts_event, ts_init=intent.ts_event,
                                         position=position))  # fmt: skip
    return events


@pytest.fixture(scope="session")
def fill() -> Fill:
    return paper_fill


@pytest.fixture(scope="session")
def simulated_day() -> list[Event]:
    """One simulated NIFTY session at one-minute steps: ChainGreeks and VIX ticks in order."""
    config = SimulatorConfig(
        seed=5, run_id="strategy-tests", start_date=date(2026, 6, 1), days=1,
        step_seconds=60.0, underlyings=(NIFTY,),
    )  # fmt: skip
    clock = ReplayClock(INIT_NS)
    greeks = GreeksConfig(rate_at=lambda _ts: RATE, expiry_close_ns=FACTS.expiry_close_ns)
    events: list[Event] = []
    for step in ChainSimulator(config, FACTS, clock).ticks():
        for event in step:
            if isinstance(event, OptionChainSnapshot):
                events.append(enrich_chain(event, greeks, clock))
            else:
                events.append(event)
    return events
