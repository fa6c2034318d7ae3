"""Ten simulated trading days over two weekly NIFTY expiries (2026-06-02 and 2026-06-09).

The monitor is told to hold (no stop, target, holding-time or expiry-day exit before the
close), so the strategies' legs are still open when their expiry day closes: expiry
settlement, not the monitor, must close them. Gamma scalping hedges its straddles with the
June futures. Two-minute steps keep ten days quick.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from optbus.clock import ReplayClock
from optbus.events import (
    Fill,
    PositionClosed,
    PositionOpened,
    PositionSettled,
    TradeClosed,
    futures_contract,
)
from optbus.market import MarketFacts
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import BacktestResult, run_backtest
from optbus_backtest.performance import compute_performance
from optbus_backtest.report import render_html
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig
from optbus_risk.config import DEFAULT_CONFIG_PATH

START = date(2026, 6, 1)
WEEKLY_EXPIRIES = {date(2026, 6, 2), date(2026, 6, 9)}
HOLD = {
    "stop_loss_long_pct": "100.0", "stop_loss_short_pct": "10_000.0",
    "target_long_pct": "10_000.0", "target_short_pct": "100.0",
    "max_holding_minutes": "100_000", "expiry_day_exit": "15:29:59",
}  # fmt: skip


def _holding_risk_file(directory: Path) -> Path:
    text = DEFAULT_CONFIG_PATH.read_text()
    for key, value in HOLD.items():
        text = text.replace(f"{key} = ", f"{key} = {value} #", 1)
    path = directory / "risk.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def ten_days(facts: MarketFacts, tmp_path_factory: pytest.TempPathFactory) -> BacktestResult:
    risk_file = _holding_risk_file(tmp_path_factory.mktemp("risk"))
    sim_config = SimulatorConfig(seed=7, run_id="ten-days", start_date=START, days=10,
                                 step_seconds=120.0)  # fmt: skip
    steps = ChainSimulator(sim_config, facts, ReplayClock()).ticks()
    config = BacktestConfig(run_id="ten-days", risk_file=risk_file)
    return run_backtest(steps, config, facts=facts)


def test_settlements_at_the_weekly_expiries_appear_in_the_trade_log(
    ten_days: BacktestResult,
) -> None:
    # Which of the two expiries still has positions at its close depends on the day's trades
    # (the dated rate moves them); that none outlives its expiry is the next tests' business.
    settled = [e for e in ten_days.trade_log.events if isinstance(e, PositionSettled)]
    assert settled
    assert {s.contract.expiry for s in settled} <= WEEKLY_EXPIRIES


def test_every_settlement_closes_its_position_with_a_settlement_trade(
    ten_days: BacktestResult,
) -> None:
    events = ten_days.trade_log.events
    settled = {e.position_id for e in events if isinstance(e, PositionSettled)}
    closed = {e.position_id for e in events if isinstance(e, PositionClosed)}
    by_settlement = {
        e.position_id for e in events if isinstance(e, TradeClosed) and e.exit_kind == "settlement"
    }
    assert settled <= closed
    assert by_settlement == settled


def test_no_position_outlives_its_expiry(ten_days: BacktestResult, facts: MarketFacts) -> None:
    last_day = facts.local_date(ten_days.last_ts_ns)
    events = ten_days.trade_log.events
    closed = {e.position_id for e in events if isinstance(e, PositionClosed)}
    opened = [e.position for e in events if isinstance(e, PositionOpened)]
    assert all(p.position_id in closed for p in opened if p.contract.expiry < last_day)
    trades = [e for e in events if isinstance(e, TradeClosed)]
    assert all(t.exit.ts <= facts.expiry_close_ns(t.contract.expiry) for t in trades)
    assert all(p.contract.expiry >= last_day for p in ten_days.services.execution.positions())


def test_the_report_shows_unrealised_pnl_in_equity_and_drawdown(
    ten_days: BacktestResult, facts: MarketFacts
) -> None:
    capital = ten_days.services.risk.env.config.capital
    performance = compute_performance(
        ten_days.trade_log.events, capital, facts, marks=ten_days.marks
    )
    last = ten_days.marks[-1]
    assert performance.final_unrealised == last.unrealised != 0.0
    assert performance.equity[-1] == (last.ts, capital + (last.realised + last.unrealised))
    assert min(level for _, level in performance.drawdown) == performance.max_drawdown
    assert "<h2>Unrealised P&L</h2>" in render_html("ten-days", performance, facts)


def test_gamma_scalping_hedges_with_the_month_s_futures(ten_days: BacktestResult) -> None:
    june_future = futures_contract("NIFTY", date(2026, 6, 30))
    hedges = [
        e for e in ten_days.trade_log.events
        if isinstance(e, Fill) and e.contract == june_future
    ]  # fmt: skip
    trades = [
        e for e in ten_days.trade_log.events
        if isinstance(e, TradeClosed) and e.contract == june_future
    ]  # fmt: skip
    assert {h.side for h in hedges} == {"BUY", "SELL"}
    assert trades
    assert {t.strategy for t in trades} == {"gamma_scalping"}


def test_the_report_splits_gamma_scalping_into_option_legs_and_futures_hedges(
    ten_days: BacktestResult, facts: MarketFacts
) -> None:
    capital = ten_days.services.risk.env.config.capital
    performance = compute_performance(
        ten_days.trade_log.events, capital, facts, marks=ten_days.marks
    )
    legs = performance.by_strategy_leg
    options, futures = legs["gamma_scalping / option legs"], legs["gamma_scalping / futures hedges"]
    whole = performance.by_strategy["gamma_scalping"]
    assert options.trades + futures.trades == whole.trades
    assert options.net_pnl + futures.net_pnl == pytest.approx(whole.net_pnl)
    page = render_html("ten-days", performance, facts)
    assert "gamma_scalping / futures hedges" in page
