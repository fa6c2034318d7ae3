"""An hour of simulated market through the real greeks, strategy, risk and execution handlers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from optbus.events import Event
from optbus.market import MarketFacts
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import BacktestResult, run_backtest

Steps = Callable[[int, int], tuple[tuple[Event, ...], ...]]


@pytest.fixture(scope="module")
def hour(simulated: Steps, facts: MarketFacts) -> BacktestResult:
    return run_backtest(simulated(7, 60), BacktestConfig(run_id="hour"), facts=facts)


def test_an_hour_of_market_makes_signals_decisions_orders_fills_and_positions(
    hour: BacktestResult,
) -> None:
    kinds = Counter(type(event).__name__ for event in hour.trade_log.events)
    for kind in ("Signal", "OrderIntent", "RiskDecision", "Order", "OrderAccepted", "Fill"):
        assert kinds[kind] > 0, kind
    assert kinds["PositionOpened"] > 0
    assert hour.summary.orders == kinds["Order"]


def test_the_run_counts_its_steps_quotes_and_market_time(hour: BacktestResult) -> None:
    assert hour.steps == 3600
    assert hour.option_quotes > hour.market_events > hour.steps
    assert hour.market_seconds == pytest.approx(3599.0)


def test_the_engines_hold_the_state_the_trade_log_describes(hour: BacktestResult) -> None:
    opened = sum(1 for e in hour.trade_log.events if type(e).__name__ == "PositionOpened")
    closed = sum(1 for e in hour.trade_log.events if type(e).__name__ == "PositionClosed")
    assert len(hour.services.execution.positions()) == opened - closed


def test_capital_overrides_the_risk_files(facts: MarketFacts, simulated: Steps) -> None:
    config = BacktestConfig(capital=1_000.0)
    result = run_backtest(simulated(7, 6), config, facts=facts)
    assert result.services.risk.env.config.capital == 1_000.0
    assert result.summary.fills == 0, "a thousand rupees of capital buys nothing"


def test_a_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="capital"):
        BacktestConfig(capital=0.0)
    with pytest.raises(ValueError, match="run_id"):
        BacktestConfig(run_id="")
