"""``optbus train``, ``optbus dq`` and ``optbus dataset``: the trainer's jobs, run by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL, DEFAULT_NATS_URL
from optbus_cli.commands.options import DatabaseUrl, NatsUrl


def train(
    version: Annotated[
        str | None, typer.Option(help="Model version (default: lgbm-<UTC time>).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Train even if the data fail the data-quality monitor.")
    ] = False,
    min_auc_gain: Annotated[
        float, typer.Option(help="AUC the model must gain over the active one to be promoted.")
    ] = 0.01,
    quality_days: Annotated[
        int, typer.Option(min=1, help="Data-quality look-back window, in days of data.")
    ] = 5,
    out_dir: Annotated[
        Path | None, typer.Option(help="Also write the model text and metadata here.")
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(help="Train on a stored backtest or replay run's trades, not the live."),
    ] = None,
    min_trades: Annotated[
        int, typer.Option(min=10, help="Fewest closed trades a model is trained on.")
    ] = 200,
    min_days: Annotated[
        int, typer.Option(min=4, help="Fewest trading days (3 to train, 1 to validate).")
    ] = 5,
    nats_url: NatsUrl = DEFAULT_NATS_URL,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Train the LightGBM scorer on the closed trades (walk-forward by day) and register it;
    promoted (and hot-loaded by the strategy service) only if it beats the active model."""
    import time

    from optbus_cli.training import TrainOptions, train_command
    from optbus_trainer.dataset import DataRequirements
    from optbus_trainer.gate import PromotionPolicy
    from optbus_trainer.job import TrainingRequest, default_version
    from optbus_trainer.training import TrainerConfig

    request = TrainingRequest(
        version=version or default_version(time.time_ns()), force=force,
        quality_days=quality_days, policy=PromotionPolicy(min_auc_gain=min_auc_gain),
        out_dir=out_dir, run_id=run_id,
        config=TrainerConfig(requirements=DataRequirements(min_rows=min_trades, min_days=min_days)),
    )  # fmt: skip
    raise typer.Exit(train_command(TrainOptions(nats_url, database_url, request)))


def dq(
    days: Annotated[int, typer.Option(min=1, help="Look-back window, in days of data.")] = 5,
    trades_threshold: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.95,
    chains_threshold: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.80,
    publish: Annotated[
        bool, typer.Option(help="Publish the report on control.dq when NATS answers.")
    ] = True,
    nats_url: NatsUrl = DEFAULT_NATS_URL,
    run_id: Annotated[
        str | None, typer.Option(help="Check a stored backtest or replay run's trades.")
    ] = None,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Data quality: coverage of trade and chain fields, stored and published as a report;
    exits 1 below a threshold."""
    from optbus_cli.quality import QualityOptions, dq_command
    from optbus_trainer.quality import Thresholds

    thresholds = Thresholds(trades=trades_threshold, chains=chains_threshold)
    options = QualityOptions(
        database_url, nats_url, days, thresholds, publish=publish, run_id=run_id
    )
    raise typer.Exit(dq_command(options))


def dataset(
    source: Annotated[str, typer.Option(help="trades (closed trades) or chains (recorded).")],
    start: Annotated[datetime, typer.Option("--from", help="Window start (UTC, ISO).")],
    end: Annotated[datetime, typer.Option("--to", help="Window end (UTC, ISO, exclusive).")],
    out: Annotated[Path, typer.Option(help="The Parquet file to write.")],
    horizon_minutes: Annotated[
        float, typer.Option(min=0.1, help="chains: the forward return's horizon.")
    ] = 15.0,
    sample_minutes: Annotated[
        float, typer.Option(min=0.1, help="chains: sample every option every N minutes.")
    ] = 5.0,
    max_label_delay_seconds: Annotated[
        float, typer.Option(min=0.0, help="chains: how late the quote at the horizon may be.")
    ] = 60.0,
    min_price: Annotated[
        float, typer.Option(min=0.0, help="chains: leave out options whose mid is below.")
    ] = 1.0,
    warmup_hours: Annotated[
        float, typer.Option(min=0.0, help="chains: events before --from that fill the history.")
    ] = 0.0,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Write a training set as Parquet: closed trades, or recorded chains with forward returns."""
    from datetime import timedelta

    from optbus.timestamps import as_utc
    from optbus_cli.datasets import DatasetRequest, dataset_command
    from optbus_trainer.chains_dataset import ChainSampling

    if source not in ("trades", "chains"):
        raise typer.BadParameter("choose trades or chains", param_hint="--source")
    sampling = ChainSampling(
        sample_minutes=sample_minutes, horizon_minutes=horizon_minutes,
        max_label_delay_seconds=max_label_delay_seconds, min_price=min_price,
    )  # fmt: skip
    request = DatasetRequest(
        database_url=database_url, source="chains" if source == "chains" else "trades",
        start=as_utc(start), end=as_utc(end), out=out, sampling=sampling,
        warmup=timedelta(hours=warmup_hours),
    )  # fmt: skip
    raise typer.Exit(dataset_command(request))
