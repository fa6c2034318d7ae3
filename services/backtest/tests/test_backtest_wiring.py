"""The backtest runs the handlers the live services declare, in the declared order."""

from __future__ import annotations

from optbus.market import MarketFacts
from optbus.runtime.topology import BatchConsumer
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import Backtest
from optbus_backtest.wiring import PIPELINE
from optbus_execution.topology import TOPOLOGY as EXECUTION
from optbus_greeks.topology import TOPOLOGY as GREEKS
from optbus_risk.topology import TOPOLOGY as RISK
from optbus_strategy.topology import TOPOLOGY as STRATEGY


def test_the_backtest_runs_every_pure_consumer_declared_in_the_declared_order(
    facts: MarketFacts,
) -> None:
    bus = Backtest(BacktestConfig(), facts).bus

    subscribed = [(s.name, s.pattern) for s in bus.subscriptions]

    declared = [(c.durable, c.subject) for t in PIPELINE for c in t.event_consumers]
    assert subscribed == declared


def test_the_backtest_runs_the_trading_services_in_the_order_events_flow() -> None:
    assert PIPELINE == (GREEKS, STRATEGY, RISK, EXECUTION)


def test_a_consumer_that_does_io_of_its_own_is_left_out_of_the_backtest(
    facts: MarketFacts,
) -> None:
    subscribed = {s.name for s in Backtest(BacktestConfig(), facts).bus.subscriptions}

    live_only = {c.durable for t in PIPELINE for c in t.consumers if isinstance(c, BatchConsumer)}
    assert live_only == {"strategy-models", "risk-killswitch"}
    assert not subscribed & live_only
