"""``optbus train`` and ``optbus dq``: the trainer and the data-quality monitor, for people."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from optbus_cli.tables import figures_table
from optbus_strategy.scoring import BaselineScorer
from optbus_trainer.dataset import InsufficientDataError
from optbus_trainer.job import TrainingRun, load_closed_trades, run_training
from optbus_trainer.quality import Thresholds
from optbus_trainer.quality_sql import quality_report


def _metrics_table(run: TrainingRun, seconds: float) -> Table:
    meta = run.artifact.metadata
    latest, pooled = meta.latest.metrics, meta.pooled

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    rows = [
        ("training rows / days", f"{meta.rows:,} / {meta.days}"),
        ("window", f"{meta.train_first_day} .. {meta.train_last_day}"),
        ("trees", f"{meta.num_trees}"),
        ("latest fold AUC / log loss / Brier",
         f"{fmt(latest.auc)} / {fmt(latest.log_loss)} / {fmt(latest.brier)}"),
        ("all folds AUC / log loss / Brier",
         f"{fmt(pooled.auc)} / {fmt(pooled.log_loss)} / {fmt(pooled.brier)}"),
        ("baseline AUC on the latest fold", fmt(run.decision.active_auc)),
        ("promote", f"{'yes' if run.decision.promote else 'no'}: {run.decision.reason}"),
        ("model sha256", meta.model_sha256),
        ("files", f"{run.model_path}, {run.metadata_path}"),
        ("training time", f"{seconds:.1f} s"),
    ]  # fmt: skip
    return figures_table(f"model {meta.version}", rows)


def train_command(database_url: str, out_dir: Path, version: str | None) -> int:
    """Run one training; 2 when there is too little data (said plainly), else 0."""
    console = Console()
    version = version or f"lgbm-{datetime.now(tz=UTC):%Y%m%dT%H%M%S}"
    with console.status("reading closed trades ..."):
        trades = load_closed_trades(database_url)
    console.print(f"{len(trades):,} closed trades in {database_url}")
    started = time.perf_counter()
    try:
        with console.status(f"training {version} (walk-forward by trading day) ..."):
            run = run_training(trades, version=version, active=BaselineScorer(), out_dir=out_dir)
    except InsufficientDataError as exc:
        console.print(f"[yellow]not training: {exc}[/yellow]")
        return 2
    console.print(_metrics_table(run, time.perf_counter() - started))
    return 0


def dq_command(database_url: str, days: int, trades: float, chains: float) -> int:
    """Print every field's coverage; 1 when any is below its threshold, else 0."""
    console = Console()
    report = quality_report(database_url, days, Thresholds(trades=trades, chains=chains))
    table = Table(title=f"data quality, last {days} days of data")
    for column in ("group", "field", "coverage", "threshold", "rows", ""):
        table.add_column(column, justify="left" if column in ("group", "field") else "right")
    for c in report.coverages:
        ratio = "n/a" if c.ratio is None else f"{c.ratio:.1%}"
        mark = "[green]ok[/green]" if c.passed else "[red]BELOW[/red]"
        table.add_row(c.group, c.field, ratio, f"{c.threshold:.0%}", f"{c.total:,}", mark)
    console.print(table)
    verdict = "passed" if report.passed else f"FAILED ({len(report.failures)} fields below)"
    console.print(f"data quality {verdict}")
    return 0 if report.passed else 1
