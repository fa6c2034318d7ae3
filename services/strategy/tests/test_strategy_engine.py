"""The strategy engine: routing, time, scorer hot swap and deterministic output."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import msgspec
import pytest

from optbus.clock import ReplayClock
from optbus.codec import Decoder, encode
from optbus.events import (
    ChainGreeks,
    EndOfDay,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
    Signal,
    VolatilityIndexTick,
)
from optbus.scoring import BaselineScorer
from optbus_strategy.base import Output, StrategyContext
from optbus_strategy.engine import DuplicateStrategyName, StrategyEngine

MakeChain = Callable[..., ChainGreeks]
PARAMS = {"min_score": 0.0, "max_days_to_expiry": 30.0}


class FixedScorer:
    """A stand-in for a promoted model."""

    version = "lgbm-2026-12-01"
    hash = "f" * 64

    def score(self, features: Mapping[str, float]) -> float:
        return 0.9


def _engine(make_strategy: Any, make_engine: Any, **params: Any) -> StrategyEngine:
    engine: StrategyEngine = make_engine(make_strategy("short_strangle", **{**PARAMS, **params}))
    return engine


def _signal(outputs: list[Any]) -> Signal:
    return next(o for o in outputs if isinstance(o, Signal))


def test_signals_carry_the_baseline_stamp_until_a_model_is_promoted(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    signal = _signal(_engine(make_strategy, make_engine).on_chain(make_chain()))

    assert (signal.model.model_version, signal.model.model_hash) == (
        "baseline-v1", BaselineScorer().hash,
    )  # fmt: skip


def test_a_promoted_scorer_stamps_every_later_signal(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    engine.set_scorer(FixedScorer())

    signal = _signal(engine.on_chain(make_chain()))

    assert (signal.model.ml_score, signal.model.model_version, signal.model.model_hash) == (
        0.9, FixedScorer.version, FixedScorer.hash,
    )  # fmt: skip


def test_an_entry_scoring_below_the_minimum_is_not_taken(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, min_score=0.95)
    engine.set_scorer(FixedScorer())

    assert engine.on_chain(make_chain()) == []


def test_events_take_market_time_from_the_chain_and_creation_time_from_the_clock(
    make_chain: MakeChain, make_strategy: Any, facts: Any
) -> None:
    chain = make_chain()
    engine = StrategyEngine([make_strategy("short_strangle", **PARAMS)], BaselineScorer(), facts,
                            ReplayClock(123))  # fmt: skip

    outputs = engine.on_chain(chain)

    assert {(o.ts_event, o.ts_init) for o in outputs} == {(chain.ts_event, 123)}


def test_the_same_chain_makes_the_same_ids_in_a_replay(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    first = _engine(make_strategy, make_engine).on_chain(make_chain())
    second = _engine(make_strategy, make_engine).on_chain(make_chain())

    assert [encode(o) for o in first] == [encode(o) for o in second]


def test_india_vix_reaches_the_features(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    chain = make_chain()
    engine.handle(VolatilityIndexTick(event_id="vix", ts_event=chain.ts_event - 1,
                                      ts_init=0, index="INDIAVIX", value=13.25))  # fmt: skip

    signal = _signal(engine.on_chain(chain))

    assert signal.model.features["india_vix"] == 13.25


def test_a_chain_of_an_underlying_no_strategy_trades_gives_nothing(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    chain = make_chain(underlying="BANKNIFTY", spot=59_000.0, expiry=date(2026, 12, 29))

    assert engine.on_chain(chain) == []


def test_a_chain_without_strikes_gives_nothing(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    chain = make_chain()
    empty_side = msgspec.structs.replace(
        chain.snapshot.calls, bid=[], ask=[], last=[], bid_size=[], ask_size=[], volume=[],
        open_interest=[],
    )  # fmt: skip
    snapshot = msgspec.structs.replace(chain.snapshot, strikes=[], calls=empty_side,
                                       puts=empty_side)  # fmt: skip
    empty = msgspec.structs.replace(chain, snapshot=snapshot)

    assert _engine(make_strategy, make_engine).on_chain(empty) == []


def test_an_event_the_engine_does_not_follow_gives_nothing(
    make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    eod = EndOfDay(event_id="eod", ts_event=0, ts_init=0, trading_date=date(2026, 12, 2))

    assert engine.handle(eod) == []


def test_two_strategies_with_one_name_are_refused(make_strategy: Any, make_engine: Any) -> None:
    twice = [make_strategy("short_strangle"), make_strategy("short_strangle")]

    with pytest.raises(DuplicateStrategyName, match="short_strangle"):
        make_engine(*twice)


def test_what_the_engine_makes_survives_the_wire(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    outputs = _engine(make_strategy, make_engine).on_chain(make_chain())

    decoded = [Decoder(type(o)).decode(encode(o)) for o in outputs]

    assert decoded == outputs


class ChainsSeen:
    """A strategy that records, for each chain, the expiries its context holds chains of."""

    name = kind = "chains_seen"
    underlyings = frozenset({"NIFTY"})

    def __init__(self) -> None:
        self.seen: list[dict[date, str]] = []

    def on_chain(self, chain: ChainGreeks, context: StrategyContext) -> list[Output]:
        self.seen.append({e: v.chain.snapshot.event_id for e, v in context.chains.items()})
        return []

    def on_position_opened(self, event: PositionOpened) -> None: ...
    def on_position_updated(self, event: PositionUpdated) -> None: ...
    def on_position_closed(self, event: PositionClosed) -> None: ...
    def on_risk_decision(self, event: RiskDecision) -> None: ...


def test_the_context_holds_the_latest_chain_of_each_expiry_of_the_underlying(
    make_chain: MakeChain, make_engine: Any
) -> None:
    seen = ChainsSeen()
    engine = make_engine(seen)
    for minutes, expiry in ((60, date(2026, 12, 15)), (61, date(2026, 12, 8)),
                            (62, date(2026, 12, 15))):  # fmt: skip
        engine.on_chain(make_chain(minutes=minutes, expiry=expiry, event_id=f"c{minutes}"))

    assert seen.seen[-1] == {date(2026, 12, 8): "c61", date(2026, 12, 15): "c62"}


def test_the_chains_of_expiries_before_the_day_are_dropped(
    make_chain: MakeChain, make_engine: Any
) -> None:
    seen = ChainsSeen()
    engine = make_engine(seen)
    engine.on_chain(make_chain(day=date(2026, 12, 8), expiry=date(2026, 12, 8), event_id="old"))

    engine.on_chain(make_chain(day=date(2026, 12, 9), expiry=date(2026, 12, 15), event_id="new"))

    assert seen.seen[-1] == {date(2026, 12, 15): "new"}
