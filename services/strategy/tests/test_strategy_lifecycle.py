"""The group life cycle: one group at a time, timeouts, rejections, cooldowns, close retries."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import msgspec

from optbus.events import ChainGreeks, Event, OrderIntent, PositionOpened, RiskCheck, RiskDecision
from optbus_strategy.engine import StrategyEngine

MakeChain = Callable[..., ChainGreeks]
Fill = Callable[[Iterable[Any]], list[Event]]
PARAMS = {
    "min_score": 0.0, "max_days_to_expiry": 30.0, "entry_after_open_minutes": 0.0,
    "pending_timeout_seconds": 60.0, "cooldown_seconds": 300.0, "close_retry_seconds": 120.0,
}  # fmt: skip


def _engine(make_strategy: Any, make_engine: Any, **params: Any) -> StrategyEngine:
    strategy = make_strategy("short_strangle", ("NIFTY", "BANKNIFTY"), **{**PARAMS, **params})
    engine: StrategyEngine = make_engine(strategy)
    return engine


def _intents(outputs: Iterable[Any]) -> list[OrderIntent]:
    return [o for o in outputs if isinstance(o, OrderIntent)]


def _fill(engine: StrategyEngine, outputs: Iterable[Any], fill: Fill) -> None:
    for event in fill(outputs):
        engine.handle(event)


def _reject(engine: StrategyEngine, intent: OrderIntent, ts: int) -> None:
    engine.handle(RiskDecision(
        event_id=f"decision-{intent.intent_id}", ts_event=ts, ts_init=ts, intent=intent,
        approved=False, checks=[RiskCheck(name="kill_switch", passed=False)],
    ))  # fmt: skip


def test_no_second_entry_is_made_while_the_first_is_pending(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    engine.on_chain(make_chain(minutes=60))

    assert engine.on_chain(make_chain(minutes=60.5)) == []


def test_no_second_entry_is_made_while_the_group_is_open(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    _fill(engine, engine.on_chain(make_chain(minutes=60)), fill)

    assert engine.on_chain(make_chain(minutes=90)) == []


def test_an_entry_that_opens_nothing_is_abandoned_after_the_timeout_then_cools_down(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    engine.on_chain(make_chain(minutes=60))

    during_cooldown = engine.on_chain(make_chain(minutes=62))
    after_cooldown = engine.on_chain(make_chain(minutes=67.1))

    assert during_cooldown == []
    assert len(_intents(after_cooldown)) == 1


def test_a_rejected_entry_frees_the_underlying_once_the_cooldown_is_over(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine, pending_timeout_seconds=3_600.0)
    chain = make_chain(minutes=60)
    (intent,) = _intents(engine.on_chain(chain))
    _reject(engine, intent, chain.ts_event)

    assert len(_intents(engine.on_chain(make_chain(minutes=65.1)))) == 1


def test_after_a_group_closes_the_strategy_waits_out_the_cooldown(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    _fill(engine, engine.on_chain(make_chain(minutes=60)), fill)
    _fill(engine, engine.on_chain(make_chain(minutes=61, vol=0.06)), fill)  # target: closed

    during_cooldown = engine.on_chain(make_chain(minutes=65))
    after_cooldown = engine.on_chain(make_chain(minutes=66.1))

    assert during_cooldown == []
    assert len(_intents(after_cooldown)) == 1


def test_an_unfilled_close_is_repeated_after_the_retry_interval(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    _fill(engine, engine.on_chain(make_chain(minutes=60)), fill)
    (first,) = _intents(engine.on_chain(make_chain(minutes=61, vol=0.06)))

    too_soon = engine.on_chain(make_chain(minutes=62, vol=0.06))
    (again,) = _intents(engine.on_chain(make_chain(minutes=63.1, vol=0.06)))

    assert too_soon == []
    assert (again.reason, again.position_ids) == (first.reason, first.position_ids)
    assert again.intent_id != first.intent_id


def test_a_close_refused_by_risk_is_retried_on_the_next_chain(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    _fill(engine, engine.on_chain(make_chain(minutes=60)), fill)
    refused_at = make_chain(minutes=61, vol=0.06)
    (close,) = _intents(engine.on_chain(refused_at))
    _reject(engine, close, refused_at.ts_event)

    assert len(_intents(engine.on_chain(make_chain(minutes=61.5, vol=0.06)))) == 1


def test_a_late_fill_of_an_abandoned_entry_is_adopted_and_managed(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine, cooldown_seconds=3_600.0)
    entry_outputs = engine.on_chain(make_chain(minutes=60))
    engine.on_chain(make_chain(minutes=62))  # timed out: abandoned
    _fill(engine, entry_outputs, fill)

    (close,) = _intents(engine.on_chain(make_chain(minutes=63, vol=0.06)))

    assert (close.group_id, close.reason) == (_intents(entry_outputs)[0].group_id, "target")


def test_each_underlying_has_its_own_group(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any
) -> None:
    engine = _engine(make_strategy, make_engine)
    engine.on_chain(make_chain(minutes=60))

    banknifty = make_chain(minutes=60, underlying="BANKNIFTY", spot=59_000.0,
                           expiry=date(2026, 12, 29))  # fmt: skip

    assert len(_intents(engine.on_chain(banknifty))) == 1


def test_positions_of_another_strategy_are_ignored(
    make_chain: MakeChain, make_strategy: Any, make_engine: Any, fill: Fill
) -> None:
    engine = _engine(make_strategy, make_engine)
    outputs = engine.on_chain(make_chain(minutes=60))
    for event in fill(outputs):
        assert isinstance(event, PositionOpened)
        other = msgspec.structs.replace(event.position, strategy="someone_else", group_id="other")
        engine.handle(PositionOpened(event_id=event.event_id, ts_event=event.ts_event,
                                     ts_init=event.ts_init, position=other))  # fmt: skip

    assert engine.on_chain(make_chain(minutes=60.5, vol=0.06)) == []
