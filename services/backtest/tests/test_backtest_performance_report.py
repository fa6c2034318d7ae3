import math
from datetime import date
from pathlib import Path

import pytest

from optbus.events import Contract, MarketContext, TradeClosed
from optbus.market import load_market_facts
from optbus_backtest.performance import compute_performance
from optbus_backtest.report import render_html, write_report

FACTS = load_market_facts()
DAY_NS = 86_400 * 10**9
T0 = 1_796_700_000 * 10**9


def _context(ts: int) -> MarketContext:
    return MarketContext(
        ts=ts, option_price=100.0, iv=0.14, delta=0.5, gamma=0.001, theta=-9.0, vega=12.0,
        spot=26_000.0, forward=26_040.0, india_vix=13.0, pcr=0.9, open_interest=1_000,
    )  # fmt: skip


def _trade(n: int, ts: int, net: float, strategy: str = "short_strangle") -> TradeClosed:
    contract = Contract(underlying="NIFTY", expiry=date(2026, 12, 29), strike=26_000.0,
                        option_type="CE")  # fmt: skip
    return TradeClosed(
        event_id=f"t{n}", ts_event=ts, ts_init=ts, trade_id=f"t{n}", position_id=f"p{n}",
        strategy=strategy, group_id=f"g{n}", contract=contract, quantity=65, entry_price=100.0,
        exit_price=100.0 + (net + 50) / 65, entry=_context(ts - 60 * 10**9), exit=_context(ts),
        model=None, exit_reason="target", gross_pnl=net + 50.0, charges=50.0, net_pnl=net,
    )  # fmt: skip


TRADES = [_trade(1, T0, 1_000.0), _trade(2, T0 + DAY_NS, -400.0), _trade(3, T0 + 2 * DAY_NS, 600.0)]


def test_the_equity_curve_adds_each_closed_trade_to_the_capital() -> None:
    performance = compute_performance(TRADES, 100_000.0, FACTS)

    assert [v for _, v in performance.equity] == [101_000.0, 100_600.0, 101_200.0]


def test_the_maximum_drawdown_is_the_deepest_fall_from_a_peak() -> None:
    assert compute_performance(TRADES, 100_000.0, FACTS).max_drawdown == -400.0


def test_the_profit_factor_is_wins_over_losses() -> None:
    assert compute_performance(TRADES, 100_000.0, FACTS).profit_factor == pytest.approx(4.0)


def test_charges_are_a_share_of_gross_pnl() -> None:
    performance = compute_performance(TRADES, 100_000.0, FACTS)

    assert performance.charges_share_of_gross == pytest.approx(150.0 / 1_350.0)


def test_sharpe_needs_more_than_one_day() -> None:
    assert compute_performance(TRADES[:1], 100_000.0, FACTS).sharpe is None


def test_a_losing_day_gives_the_sortino_of_the_mean_over_the_downside_deviation() -> None:
    # Daily P&L 1,000, -400, 600: mean 400, downside deviation sqrt(400^2 / 2), annualised.
    expected = 400.0 / math.sqrt(400.0**2 / 2) * math.sqrt(252)

    sortino = compute_performance(TRADES, 100_000.0, FACTS).sortino

    assert sortino is not None
    assert sortino == pytest.approx(expected)


def test_pnl_is_split_by_strategy() -> None:
    trades = [*TRADES, _trade(4, T0 + 3 * DAY_NS, 200.0, strategy="iron_condor")]

    performance = compute_performance(trades, 100_000.0, FACTS)

    assert {k: g.net_pnl for k, g in performance.by_strategy.items()} == {
        "iron_condor": 200.0, "short_strangle": 1_200.0,
    }  # fmt: skip


def test_the_report_has_every_section_a_quant_reads() -> None:
    page = render_html("run-1", compute_performance(TRADES, 100_000.0, FACTS), FACTS)

    for section in ("Summary", "Equity", "Drawdown", "Daily P&L", "By strategy", "By underlying",
                    "Exposure and portfolio Greeks", "Trades", "<svg"):  # fmt: skip
        assert section in page


def test_the_report_is_written_as_html_and_json(tmp_path: Path) -> None:
    performance = compute_performance(TRADES, 100_000.0, FACTS)

    page, figures = write_report(tmp_path, "run-1", performance, FACTS)

    assert page.read_text().startswith("<!doctype html>")
    assert b'"net_pnl": 1200.0' in figures.read_bytes()
