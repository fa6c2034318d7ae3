"""``--compare``: two runs' headline figures side by side, with B minus A."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from optbus_backtest.compare import compare_rows, compare_table
from optbus_backtest.performance import RunPerformance
from optbus_backtest.store import StoredRun


def _results(trades: int, net: float, average_loss: float | None) -> RunPerformance:
    return RunPerformance(
        capital=100_000.0, trades=trades, win_rate=0.5, average_win=net, average_loss=average_loss,
        profit_factor=None, gross_pnl=net + 50.0, charges=50.0, net_pnl=net,
        charges_share_of_gross=None, turnover=10_000.0, sharpe=None, sortino=None,
        max_drawdown=0.0, max_drawdown_pct=0.0,
    )  # fmt: skip


def _run(run_id: str, performance: RunPerformance, sha: str) -> StoredRun:
    created = datetime(2026, 11, 2, 9, tzinfo=UTC)
    return StoredRun(run_id=run_id, created=created, source="simulator", config={},
                     trade_log_sha256=sha, performance=performance)  # fmt: skip


ONE = _results(1, 1_000.0, None)
THREE = _results(3, 1_200.0, -400.0)


def _row(rows: list[tuple[str, str, str, str]], label: str) -> tuple[str, str, str, str]:
    (row,) = [r for r in rows if r[0] == label]
    return row


def test_each_figure_shows_both_runs_and_the_difference() -> None:
    rows = compare_rows(_run("a", ONE, "1" * 64), _run("b", THREE, "2" * 64))

    assert _row(rows, "net P&L") == ("net P&L", "₹1,000.00", "₹1,200.00", "+₹200.00")
    assert _row(rows, "closed trades") == ("closed trades", "1", "3", "+2")
    assert _row(rows, "capital")[3] == "="


def test_a_figure_undefined_in_one_run_has_no_difference() -> None:
    rows = compare_rows(_run("a", ONE, "1" * 64), _run("b", THREE, "2" * 64))

    assert _row(rows, "average loss") == ("average loss", "n/a", "₹-400.00", "")


def test_the_trade_logs_are_said_to_be_the_same_or_to_differ() -> None:
    same = compare_rows(_run("a", ONE, "1" * 64), _run("b", ONE, "1" * 64))
    differ = compare_rows(_run("a", ONE, "1" * 64), _run("b", ONE, "2" * 64))

    assert _row(same, "trade-log sha256")[3] == "same"
    assert _row(differ, "trade-log sha256")[3] == "differs"


def test_the_table_is_headed_by_the_run_ids() -> None:
    console = Console(width=160, record=True)
    console.print(compare_table(_run("run-a", ONE, "1" * 64), _run("run-b", THREE, "2" * 64)))

    text = console.export_text()
    for heading in ("run-a", "run-b", "B - A"):
        assert heading in text
