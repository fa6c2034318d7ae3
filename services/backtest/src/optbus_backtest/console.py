"""``optbus backtest``: one run with a progress bar, its figures, files and storage printed."""

from __future__ import annotations

import os

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from optbus.market import MarketFacts, load_market_facts
from optbus_backtest.engine import BacktestResult
from optbus_backtest.figures import HEADLINE_FIGURES
from optbus_backtest.job import RunOutcome, execute, prepare
from optbus_backtest.options import BacktestInputError, BacktestOptions
from optbus_backtest.sweep import PointOutcome, check_points, expand_grid, parse_axis, run_sweep

_PROGRESS_EVERY_STEPS = 60


def run_command(options: BacktestOptions, console: Console | None = None) -> RunOutcome:
    """Run the backtest with a progress bar, print its summary, write and store its performance."""
    console = console or Console()
    facts = load_market_facts()
    prepared = prepare(options, facts)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[market]}"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(prepared.config.run_id, total=prepared.total_steps, market="")

        def on_step(index: int, now_ns: int) -> None:
            if index % _PROGRESS_EVERY_STEPS == 0:
                progress.update(task, completed=index + 1, market=market_time(now_ns, facts))

        outcome = execute(prepared, on_step)
    console.print(summary_table(outcome.result))
    console.print(
        f"trade log: {outcome.trade_log} ({len(outcome.result.trade_log.events):,} events)"
    )
    console.print(f"report: {outcome.report} (figures as JSON: {outcome.figures})")
    console.print(outcome.stored)
    return outcome


def market_time(now_ns: int, facts: MarketFacts) -> str:
    """A market time (epoch ns) as the progress bar shows it, in the exchange's time zone."""
    return facts.local_datetime(now_ns).strftime("%Y-%m-%d %H:%M %Z")


def summary_table(result: BacktestResult) -> Table:
    """The figures of a run as a two-column table."""
    s, origins = result.summary, result.quote_origins
    table = Table(title=f"backtest {result.run_id}", show_header=False)
    table.add_column("figure", no_wrap=True)
    table.add_column("value", overflow="fold")
    speed = result.option_quotes / result.wall_seconds if result.wall_seconds else 0.0
    pace = result.market_seconds / result.wall_seconds if result.wall_seconds else 0.0
    rows = [
        ("market steps / events", f"{result.steps:,} / {result.market_events:,}"),
        ("option quotes", f"{result.option_quotes:,}"),
        ("synthesised quotes", f"{origins.synthetic_quotes:,} ({origins.quote_share or 0.0:.1%})"),
        (
            "fills on synthesised quotes",
            f"{origins.synthetic_fills:,} of {origins.fills:,} ({origins.fill_share or 0.0:.1%})",
        ),
        ("signals / intents", f"{s.signals} / {s.intents}"),
        ("orders / fills", f"{s.orders} / {s.fills}"),
        ("closed trades", f"{s.trades}"),
        ("gross P&L", f"₹{s.gross_pnl:,.2f}"),
        ("charges", f"₹{s.charges:,.2f}"),
        ("net P&L", f"₹{s.net_pnl:,.2f}"),
        ("win rate", f"{s.win_rate:.1%}"),
        ("trade-log sha256", result.trade_log_sha256),
        ("speed", f"{speed:,.0f} quotes/s, {pace:,.0f}x real time ({result.wall_seconds:.1f} s)"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


_SWEEP_FIGURES = ("trades", "net_pnl", "charges", "win_rate", "profit_factor", "sharpe",
                  "max_drawdown")  # fmt: skip


def sweep_table(outcomes: list[PointOutcome]) -> Table:
    """One row per point: its settings, its headline figures and its trade log's hash."""
    figures = [f for f in HEADLINE_FIGURES if f.field in _SWEEP_FIGURES]
    table = Table(title=f"sweep of {len(outcomes)} point(s)")
    table.add_column("#", justify="right")
    table.add_column("settings", overflow="fold")
    for figure in figures:
        table.add_column(figure.label, justify="right")
    table.add_column("trade log sha256", no_wrap=True)
    for o in outcomes:
        settings = " ".join(f"{name}={value}" for name, value in o.settings)
        values = [f.format(o.figures[f.field]) for f in figures]
        table.add_row(str(o.index), settings, *values, o.trade_log_sha256[:12])
    return table


def sweep_command(
    base: BacktestOptions,
    sweeps: list[str],
    *,
    jobs: int | None = None,
    index: int | None = None,
    console: Console | None = None,
) -> list[PointOutcome]:
    """Run the grid (all of it in parallel processes, or only point ``index``) and print it."""
    console = console or Console()
    points = expand_grid(base, [parse_axis(text) for text in sweeps])
    if index is not None:
        if not 0 <= index < len(points):
            raise BacktestInputError(
                f"--sweep-index {index} is outside the grid of {len(points)} point(s) "
                f"(0 to {len(points) - 1})"
            )
        point = points[index]
        console.print(f"sweep point {index} of {len(points)}: {point.run_id}")
        run_command(point.options, console)
        return []
    check_points(points)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(points)))
    console.print(f"sweep: {len(points)} point(s) in {workers} process(es)")
    columns = (TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("sweep", total=len(points))
        outcomes = run_sweep(points, workers, on_done=lambda _: progress.advance(task))
    console.print(sweep_table(outcomes))
    for outcome in outcomes:
        console.print(f"{outcome.run_id}: {outcome.stored}", style="dim")
    console.print(f"trade logs and reports: {base.out_dir}/<run id>.jsonl|.html|.json")
    return outcomes
