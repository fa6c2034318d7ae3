"""``optbus train``: the trainer, for people (``optbus dq`` is in ``optbus_cli.quality``)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from nats.errors import NoServersError
from rich.console import Console
from rich.table import Table

from optbus.clock import LiveClock
from optbus.market import load_market_facts
from optbus.runtime.migration import BusNotMigrated, check_streams
from optbus.runtime.nats_security import connect as connect_nats
from optbus.subjects import MODEL_TRAINED, MODELS_BUCKET, stream_of
from optbus_cli.tables import figures_table
from optbus_trainer.dataset import InsufficientDataError
from optbus_trainer.job import (
    DataQualityFailed,
    Progress,
    TrainingOutcome,
    TrainingRequest,
    UnknownRun,
    prepare,
    train_and_register,
)
from optbus_trainer.registry import ModelRegistry


@dataclass(frozen=True)
class TrainOptions:
    """What ``optbus train`` was asked: where the bus and the database are, and the request."""

    nats_url: str
    database_url: str
    request: TrainingRequest


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _summary_table(outcome: TrainingOutcome, seconds: float) -> Table:
    meta = outcome.run.artifact.metadata
    latest, pooled, decision = meta.latest.metrics, meta.pooled, outcome.run.decision
    rows = [
        ("rows / trading days", f"{meta.rows:,} / {meta.days}"),
        ("window", f"{meta.train_first_day} .. {meta.train_last_day}"),
        ("folds (validation days)", ", ".join(str(f.validation_day) for f in meta.folds)),
        ("trees", f"{meta.num_trees}"),
        ("latest fold AUC / log loss / Brier",
         f"{_fmt(latest.auc)} / {_fmt(latest.log_loss)} / {_fmt(latest.brier)}"),
        ("all folds AUC / log loss / Brier",
         f"{_fmt(pooled.auc)} / {_fmt(pooled.log_loss)} / {_fmt(pooled.brier)}"),
        ("active model's AUC on the latest fold", _fmt(decision.active_auc)),
        ("status", f"{outcome.registration.status}: {decision.reason}"),
        ("model sha256", meta.model_sha256),
        ("object store", f"{MODELS_BUCKET}/{outcome.registration.record.object_name}"),
        ("training time", f"{seconds:.1f} s"),
    ]  # fmt: skip
    return figures_table(f"model {meta.version}", rows)


def _calibration_table(outcome: TrainingOutcome) -> Table:
    latest = outcome.run.artifact.metadata.latest
    table = Table(title=f"calibration, latest fold ({latest.validation_day})")
    for column in ("predicted", "trades", "mean predicted", "observed winners"):
        table.add_column(column, justify="right")
    for b in latest.metrics.calibration:
        table.add_row(f"{b.lower:.1f}-{b.upper:.1f}", f"{b.count:,}",
                      f"{b.mean_predicted:.3f}", f"{b.observed:.3f}")  # fmt: skip
    return table


def _importance_table(outcome: TrainingOutcome, top: int = 10) -> Table:
    gains = outcome.run.artifact.metadata.importance_gain
    total = sum(gains.values()) or 1.0
    table = Table(title=f"feature importance by gain (top {top})")
    for column in ("feature", "gain", "share"):
        table.add_column(column, justify="left" if column == "feature" else "right")
    for name, gain in sorted(gains.items(), key=lambda item: -item[1])[:top]:
        table.add_row(name, f"{gain:,.1f}", f"{gain / total:.1%}")
    return table


async def _train(options: TrainOptions, progress: Progress) -> TrainingOutcome:
    prepared = await asyncio.to_thread(
        prepare, options.request, database_url=options.database_url, facts=load_market_facts(),
        progress=progress,
    )  # fmt: skip
    nc = await connect_nats(options.nats_url, connect_timeout=5, max_reconnect_attempts=1)
    try:
        js = nc.jetstream()
        await check_streams(js, (stream_of(MODEL_TRAINED),))
        registry = ModelRegistry(lambda: js, options.database_url, LiveClock(), "optbus-train")
        return await train_and_register(
            options.request, prepared, registry=registry, progress=progress
        )
    finally:
        await nc.close()


def train_command(options: TrainOptions) -> int:
    """Train, gate and register one model, showing progress, then print its summary.

    0 when a model was registered; 2 when there is too little data and 3 when the data fail
    the quality monitor (said plainly, no model); 1 when the bus cannot be reached or is not
    migrated.
    """
    console = Console()
    started = time.perf_counter()
    try:
        with console.status("starting ...") as status:

            def progress(message: str) -> None:
                console.log(message)
                status.update(f"{message} ...")

            outcome = asyncio.run(_train(options, progress))
    except InsufficientDataError as exc:
        console.print(f"[yellow]not training: {exc}[/yellow]")
        return 2
    except DataQualityFailed as exc:
        console.print(f"[red]{exc}[/red]")
        return 3
    except UnknownRun as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    except BusNotMigrated as exc:
        console.print(f"[red]{exc}[/red]")
        return 1
    except (OSError, NoServersError) as exc:
        console.print(f"[red]cannot reach NATS at {options.nats_url}: {exc}[/red]")
        return 1
    seconds = time.perf_counter() - started
    for table in (_summary_table(outcome, seconds), _calibration_table(outcome),
                  _importance_table(outcome)):  # fmt: skip
        console.print(table)
    return 0
