"""``optbus backtest``: pick the source, show progress, print the summary, write the log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from optbus.events import Event
from optbus.market import MarketFacts, load_market_facts
from optbus_backtest.config import BacktestConfig
from optbus_backtest.report import write_report
from optbus_backtest.results import compute_results
from optbus_backtest.run import BacktestResult, run_backtest
from optbus_backtest.sources import first, recorded_steps, simulated_step_count, simulator

_IST = timezone(timedelta(hours=5, minutes=30))
Steps = Iterator[list[Event]]


@dataclass(frozen=True, slots=True)
class BacktestOptions:
    """The command line of ``optbus backtest``; ``file`` replaces the simulator when given."""

    days: int
    start_date: date
    seed: int
    file: Path | None = None
    minutes: int | None = None
    strategies: Path | None = None
    capital: float | None = None
    run_id: str | None = None
    out_dir: Path = Path()

    def resolved_run_id(self) -> str:
        """The run id given, or one named after the input."""
        if self.run_id:
            return self.run_id
        if self.file is not None:
            return f"backtest-{self.file.name.split('.')[0]}"
        return f"backtest-{self.start_date.isoformat()}-{self.days}d-seed{self.seed}"


def _config(options: BacktestOptions) -> BacktestConfig:
    base = BacktestConfig(run_id=options.resolved_run_id(), capital=options.capital)
    if options.strategies is None:
        return base
    return BacktestConfig(
        run_id=base.run_id, capital=options.capital, strategies_file=options.strategies
    )


def _source(options: BacktestOptions, facts: MarketFacts) -> tuple[Steps, int | None]:
    """The market steps and, when it is known, how many there are."""
    max_steps = None if options.minutes is None else options.minutes * 60
    if options.file is not None:
        return first(recorded_steps(options.file), max_steps), None
    sim = simulator(
        seed=options.seed, start_date=options.start_date, days=options.days, facts=facts
    )
    total = simulated_step_count(sim, facts)
    return first(sim.ticks(), max_steps), total if max_steps is None else min(total, max_steps)


def run_command(options: BacktestOptions, console: Console | None = None) -> BacktestResult:
    """Run the backtest with a progress bar, print its summary and write its trade log."""
    console = console or Console()
    facts = load_market_facts()
    config = _config(options)
    steps, total = _source(options, facts)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[market]}"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(config.run_id, total=total, market="")

        def on_step(index: int, now_ns: int) -> None:
            if index % 60 == 0:
                progress.update(task, completed=index + 1, market=_hhmm(now_ns))

        result = run_backtest(steps, config, facts=facts, on_step=on_step)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    path = options.out_dir / f"{config.run_id}.jsonl"
    result.trade_log.write(path)
    console.print(summary_table(result))
    console.print(f"trade log: {path} ({len(result.trade_log.events):,} events)")
    capital = result.services.risk.env.config.capital
    report, figures = write_report(
        options.out_dir, config.run_id, compute_results(result.trade_log.events, capital)
    )
    console.print(f"report: {report} (figures as JSON: {figures})")
    return result


def _hhmm(now_ns: int) -> str:
    moment = datetime.fromtimestamp(now_ns / 1e9, tz=UTC).astimezone(_IST)
    return moment.strftime("%Y-%m-%d %H:%M IST")


def summary_table(result: BacktestResult) -> Table:
    """The figures of a run as a two-column table."""
    s = result.summary
    table = Table(title=f"backtest {result.run_id}", show_header=False)
    table.add_column("figure", no_wrap=True)
    table.add_column("value", overflow="fold")
    speed = result.option_quotes / result.wall_seconds if result.wall_seconds else 0.0
    pace = result.market_seconds / result.wall_seconds if result.wall_seconds else 0.0
    rows = [
        ("market steps / events", f"{result.steps:,} / {result.market_events:,}"),
        ("option quotes", f"{result.option_quotes:,}"),
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
