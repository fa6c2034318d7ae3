"""``optbus backtest``: market data through the live handlers in one process.

Its many options are declared once each below, so the command's signature reads as a list of
names; building the backtest's options and running them are helpers of their own.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus.timestamps import as_utc
from optbus_cli.commands.options import (
    DatabaseUrl,
    FirstSession,
    ResultsDir,
    Seed,
    SimulatedDays,
    StrategiesFile,
)

if TYPE_CHECKING:
    from optbus_backtest.options import BacktestOptions

RecordedFile = Annotated[
    Path | None, typer.Option(help="A recorded session (.csv, .csv.gz, .parquet) instead.")
]
WindowStart = Annotated[
    datetime | None,
    typer.Option("--from", help="Recorded events in the database from (UTC, ISO) instead."),
]
WindowEnd = Annotated[
    datetime | None, typer.Option("--to", help="... up to (UTC, ISO, exclusive).")
]
FirstMinutes = Annotated[
    int | None, typer.Option(min=1, help="Only the first N minutes of market steps.")
]
Capital = Annotated[
    float | None, typer.Option(min=1.0, help="Capital (overrides the risk file's).")
]
ChargesSchedule = Annotated[
    str | None,
    typer.Option(help="Pin the charges: a shipped schedule (2024-10-01) or a TOML file."),
]
LatencyMs = Annotated[
    float | None, typer.Option(min=0.0, help="Paper broker: order to first fill (200).")
]
SlippageSpreadFraction = Annotated[
    float | None, typer.Option(min=0.0, help="Paper broker: slippage, spread share (0).")
]
SlippageSizeImpact = Annotated[
    float | None, typer.Option(min=0.0, help="Paper broker: slippage per size taken (0.5).")
]
BrokeragePerOrder = Annotated[
    float | None, typer.Option(min=0.0, help="Paper broker: brokerage per order (20).")
]
RunId = Annotated[
    str | None, typer.Option(help="Run id; files <run-id>.jsonl/.html/.json, DB row.")
]
Store = Annotated[
    bool | None,
    typer.Option(
        "--store/--no-store",
        help="Store the run in the database (default: "
        "when DATABASE_URL answers); a run id stored before is replaced.",
    ),
]
Compare = Annotated[
    tuple[str, str] | None,
    typer.Option(help="Show two stored runs side by side (RUN_A RUN_B) and exit."),
]
Sweep = Annotated[
    list[str] | None,
    typer.Option(help="name=v1,v2,... (repeatable): run the grid; see docs/backtesting.md."),
]
Jobs = Annotated[int | None, typer.Option(min=1, help="Sweep processes (default: one per CPU).")]
SweepIndex = Annotated[
    int | None, typer.Option(min=0, help="Run only this point of the sweep's grid.")
]


def backtest(
    days: SimulatedDays = 1,
    start_date: FirstSession = datetime(2026, 6, 1),
    seed: Seed = 7,
    file: RecordedFile = None,
    start: WindowStart = None,
    end: WindowEnd = None,
    minutes: FirstMinutes = None,
    strategies: StrategiesFile = None,
    capital: Capital = None,
    charges_schedule: ChargesSchedule = None,
    latency_ms: LatencyMs = None,
    slippage_spread_fraction: SlippageSpreadFraction = None,
    slippage_size_impact: SlippageSizeImpact = None,
    brokerage_per_order: BrokeragePerOrder = None,
    run_id: RunId = None,
    out_dir: ResultsDir = Path(),
    store: Store = None,
    compare: Compare = None,
    sweep: Sweep = None,
    jobs: Jobs = None,
    sweep_index: SweepIndex = None,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Replay market data through the live handlers in one process (no NATS needed)."""
    from optbus_backtest.options import BacktestOptions

    options = BacktestOptions(
        days=days, start_date=start_date.date(), seed=seed, file=file,
        window=_window(start, end), minutes=minutes, strategies=strategies, capital=capital,
        charges_schedule=charges_schedule, latency_ms=latency_ms,
        slippage_spread_fraction=slippage_spread_fraction,
        slippage_size_impact=slippage_size_impact, brokerage_per_order=brokerage_per_order,
        run_id=run_id, out_dir=out_dir, database_url=database_url, store=store,
    )  # fmt: skip
    _run(options, compare, sweep, jobs, sweep_index)


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime] | None:
    """The database window ``--from``/``--to`` name, in UTC; neither or both must be given."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise typer.BadParameter("give both --from and --to", param_hint="--from/--to")
    return as_utc(start), as_utc(end)


def _run(
    options: BacktestOptions,
    compare: tuple[str, str] | None,
    sweep: list[str] | None,
    jobs: int | None,
    sweep_index: int | None,
) -> None:
    """Compare two stored runs, run a sweep's grid, or run once: input that cannot run exits
    2 and a store that fails exits 1, each with one line and no traceback."""
    from rich.console import Console

    from optbus_backtest.compare import compare_command
    from optbus_backtest.console import run_command, sweep_command
    from optbus_backtest.options import BacktestInputError
    from optbus_backtest.store import StoreError
    from optbus_market_data.recorded import RecordedSessionError
    from optbus_strategy.config import StrategyConfigError

    console = Console()
    try:
        if compare is not None:
            compare_command(options.database_url, *compare, console)
        elif sweep:
            sweep_command(options, sweep, jobs=jobs, index=sweep_index, console=console)
        else:
            run_command(options, console)
    except (BacktestInputError, StrategyConfigError, RecordedSessionError) as exc:
        typer.echo(f"backtest: {exc}", err=True)
        raise typer.Exit(2) from None
    except StoreError as exc:
        typer.echo(f"backtest: {exc}", err=True)
        raise typer.Exit(1) from None
