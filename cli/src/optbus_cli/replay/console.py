"""A replay on the console: a progress bar while it runs, then its figures and where its
trade log, report and stored run are."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from optbus.market import load_market_facts
from optbus_backtest.console import market_time
from optbus_backtest.sources import database_steps
from optbus_cli.replay.job import run_replay
from optbus_cli.replay.options import ReplayOptions
from optbus_cli.replay.results import ReplayFiles, ReplayResult, finish_replay
from optbus_cli.tables import figures_table


def replay_command(
    options: ReplayOptions, database_url: str, out_dir: Path, console: Console | None = None
) -> ReplayFiles:
    """Run a replay with a progress bar, then print its figures and where its results are."""
    console = console or Console()
    facts = load_market_facts()
    # Only the count and the backtest's checks of the window: run_replay reads the steps.
    _, total = database_steps(database_url, (options.start, options.end))
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[market]}"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(options.run_id, total=total, market="")

        def on_step(sent: int, now_ns: int) -> None:
            progress.update(task, advance=1, market=market_time(now_ns, facts))

        result = run_replay(options, database_url, on_step, on_status=console.print)
    files = finish_replay(options, result, database_url, out_dir, facts)
    console.print(replay_table(result, files))
    console.print(f"trade log: {files.trade_log}")
    console.print(f"report: {files.report} (figures as JSON: {files.figures})")
    console.print(files.stored)
    return files


def replay_table(result: ReplayResult, files: ReplayFiles) -> Table:
    """The figures of a replay as a two-column table."""
    figures = files.performance
    pace = result.market_seconds / result.wall_seconds if result.wall_seconds else 0.0
    return figures_table(f"replay {result.run_id}", [
        ("market steps / events", f"{result.steps:,} / {result.market_events:,}"),
        ("events the services emitted (stored)", f"{len(result.events):,}"),
        # As the backtest's table says it: how much of the run rests on quotes no market made.
        ("synthesised quotes", f"{figures.synthetic_quote_share or 0.0:.1%} of those replayed"),
        ("fills on synthesised quotes", f"{figures.synthetic_fill_share or 0.0:.1%}"),
        ("closed trades", f"{figures.trades}"),
        ("gross P&L", f"₹{figures.gross_pnl:,.2f}"),
        ("charges", f"₹{figures.charges:,.2f}"),
        ("net P&L", f"₹{figures.net_pnl:,.2f}"),
        ("trade-log sha256 (canonical)", files.trade_log_sha256),
        ("speed", f"{pace:,.0f}x real time ({result.wall_seconds:.1f} s)"),
    ])  # fmt: skip
