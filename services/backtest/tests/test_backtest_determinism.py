"""The same input gives a byte-identical trade log; a different input gives another."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from optbus.events import Event
from optbus.market import MarketFacts
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import BacktestResult, run_backtest

Steps = Callable[[int, int], tuple[tuple[Event, ...], ...]]
MINUTES = 10


def _run(steps: Steps, facts: MarketFacts, seed: int) -> BacktestResult:
    return run_backtest(steps(seed, MINUTES), BacktestConfig(run_id="det"), facts=facts)


def test_the_same_seed_twice_gives_the_same_trade_log_hash(
    simulated: Steps, facts: MarketFacts
) -> None:
    once, twice = _run(simulated, facts, 7), _run(simulated, facts, 7)
    assert once.trade_log.events, "ten minutes should already trade"
    assert once.trade_log_sha256 == twice.trade_log_sha256
    assert once.trade_log.jsonl() == twice.trade_log.jsonl()


def test_a_different_seed_gives_a_different_trade_log_hash(
    simulated: Steps, facts: MarketFacts
) -> None:
    seven, eight = _run(simulated, facts, 7), _run(simulated, facts, 8)
    assert eight.trade_log.events
    assert seven.trade_log_sha256 != eight.trade_log_sha256


def test_the_hash_is_the_sha256_of_the_json_lines_file(
    simulated: Steps, facts: MarketFacts, tmp_path: object
) -> None:
    result = _run(simulated, facts, 7)
    assert hashlib.sha256(result.trade_log.jsonl()).hexdigest() == result.trade_log_sha256
    assert result.trade_log.jsonl().count(b"\n") == len(result.trade_log.events)


def test_every_ts_init_is_replay_time_not_wall_time(simulated: Steps, facts: MarketFacts) -> None:
    result = _run(simulated, facts, 7)
    for event in result.trade_log.events:
        assert result.first_ts_ns <= event.ts_init <= result.last_ts_ns
        assert event.ts_event <= event.ts_init
