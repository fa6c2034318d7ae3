"""``optbus dataset``: a training set from the database, written as Parquet, with a summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from optbus.market import MarketFacts, load_market_facts
from optbus.timestamps import epoch_ns
from optbus_cli.tables import figures_table
from optbus_trainer.chains_dataset import ChainSampling
from optbus_trainer.dataset import from_trades
from optbus_trainer.parquet import DatasetMetadata, write_chain_set, write_trade_set
from optbus_trainer.recorded import build_chain_set, closed_trades

Source = Literal["trades", "chains"]


@dataclass(frozen=True)
class DatasetRequest:
    """What ``optbus dataset`` was asked for: where from, which window, how, and where to."""

    database_url: str
    source: Source
    start: datetime
    end: datetime
    out: Path
    sampling: ChainSampling
    warmup: timedelta


def dataset_command(request: DatasetRequest) -> int:
    """Build and write the set; 0 when it has rows, 2 when the window holds none (said plainly)."""
    console = Console()
    if request.end <= request.start:
        console.print("[red]--to must be after --from[/red]")
        return 2
    started = time.perf_counter()
    build = _chains if request.source == "chains" else _trades
    meta = build(request, load_market_facts(), console)
    seconds = time.perf_counter() - started
    console.print(_summary(request, meta, seconds))
    if meta.rows == 0:
        console.print(f"[yellow]no rows in {request.start} .. {request.end}[/yellow]")
        return 2
    return 0


def _window_ns(request: DatasetRequest) -> tuple[int, int]:
    return epoch_ns(request.start), epoch_ns(request.end)


def _trades(request: DatasetRequest, facts: MarketFacts, console: Console) -> DatasetMetadata:
    with console.status("reading closed trades ..."):
        trades = closed_trades(request.database_url, request.start, request.end)
    console.print(f"{len(trades):,} trades closed in the window")
    entries = [trade.entry.ts for trade in trades if trade.model is not None]
    span = (min(entries), max(entries)) if entries else None
    return write_trade_set(
        request.out, from_trades(trades, facts), entry_range_ns=span, window_ns=_window_ns(request)
    )


def _chains(request: DatasetRequest, facts: MarketFacts, console: Console) -> DatasetMetadata:
    columns = (
        TextColumn("recorded chains"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("chains", total=None, rows=0)

        def progress(done: int, total: int) -> None:
            if done % 200 == 0 or done == total:
                bar.update(task, completed=done, total=total)

        rows = build_chain_set(
            request.database_url, request.start, request.end, facts,
            request.sampling, warmup=request.warmup, progress=progress,
        )  # fmt: skip
    return write_chain_set(
        request.out, rows, sampling=request.sampling, window_ns=_window_ns(request), facts=facts
    )


def _summary(request: DatasetRequest, meta: DatasetMetadata, seconds: float) -> Table:
    rows = [
        ("source", meta.source),
        ("window asked", f"{meta.window_start} .. {meta.window_end}"),
        ("rows", f"{meta.rows:,}"),
        ("rows' time range", f"{meta.first or 'n/a'} .. {meta.last or 'n/a'}"),
        ("trading days", ", ".join(str(day) for day in meta.days) or "none"),
        *((f"left out: {why}", f"{n:,}") for why, n in sorted(meta.skipped.items())),
        ("label", meta.label_definition),
        ("file", str(request.out)),
        ("build time", f"{seconds:.1f} s ({meta.rows / seconds:,.0f} rows/s)" if seconds else ""),
    ]
    if meta.sampling is not None:
        s = meta.sampling
        rows.insert(1, ("sampling", f"every {s.sample_minutes:g} min, "
                                    f"horizon {s.horizon_minutes:g} min"))  # fmt: skip
    return figures_table(f"training set: {meta.source}", rows)
