"""One training run, the same by hand (``optbus train``) and on schedule (the trainer service):
closed trades from the database, the data-quality check, walk-forward training, the gate
against the active model, and registration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from optbus import database
from optbus.events import ModelRecord, TradeClosed
from optbus.market import MarketFacts
from optbus.runtime.model_store import ModelNotStored
from optbus.scoring import BaselineScorer, ModelError, Scorer
from optbus_trainer.dataset import DataRequirements, TrainingSet, from_trades
from optbus_trainer.gate import (
    PromotionDecision,
    PromotionPolicy,
    decide,
    evaluate_scorer,
    rows_of_day,
)
from optbus_trainer.quality import QualityReport, Thresholds, assess, trade_field_counts
from optbus_trainer.quality_sql import quality_report
from optbus_trainer.recorded import closed_trades
from optbus_trainer.registry import ModelRegistry, Registration
from optbus_trainer.storage import write_artifact
from optbus_trainer.training import ModelArtifact, TrainerConfig, train

_decoder = msgspec.json.Decoder(TradeClosed)

Progress = Callable[[str], None]


class DataQualityFailed(RuntimeError):
    """The look-back window fails the data-quality monitor, so no model is trained on it."""

    def __init__(self, report: QualityReport, scope: str) -> None:
        fields = ", ".join(
            f"{c.group}.{c.field} {'n/a' if c.ratio is None else f'{c.ratio:.1%}'} "
            f"< {c.threshold:.0%}"
            for c in report.failures
        )
        super().__init__(
            f"not training: {scope} fail the data-quality monitor "
            f"({fields}); fix the data or train anyway with --force"
        )
        self.report = report


@dataclass(frozen=True)
class TrainingRequest:
    """What to train and how strict to be: version, quality window and thresholds, gate."""

    version: str
    force: bool = False
    quality_days: int = 5
    thresholds: Thresholds = field(default_factory=Thresholds)
    policy: PromotionPolicy = field(default_factory=PromotionPolicy)
    config: TrainerConfig = field(default_factory=TrainerConfig)
    out_dir: Path | None = None
    run_id: str | None = None
    """Train on a stored backtest or replay run's trades instead of the live ones."""


@dataclass(frozen=True)
class TrainingRun:
    """A trained model and the gate's verdict against the scorer in force."""

    artifact: ModelArtifact
    decision: PromotionDecision


@dataclass(frozen=True)
class TrainingOutcome:
    """What one run did: the model, its registration, and the quality report it passed."""

    run: TrainingRun
    registration: Registration
    quality: QualityReport


def default_version(now_ns: int) -> str:
    """A model version from the time of training: ``lgbm-YYYYMMDDTHHMMSS`` (UTC)."""
    return f"lgbm-{datetime.fromtimestamp(now_ns / 1e9, tz=UTC):%Y%m%dT%H%M%S}"


class UnknownRun(LookupError):
    """No stored backtest or replay run has the id asked for."""


def load_run_trades(database_url: str, run_id: str) -> list[TradeClosed]:
    """The closed trades of a stored backtest or replay run (``optbus backtest --store``)."""
    with database.connect(database_url) as conn:
        known = conn.execute("SELECT 1 FROM backtest_runs WHERE run_id = %s", (run_id,)).fetchone()
        if known is None:
            raise UnknownRun(f"no stored run {run_id!r}: store it with optbus backtest --store")
        rows = conn.execute(
            "SELECT payload::text FROM backtest_trades WHERE run_id = %s AND payload IS NOT NULL "
            "ORDER BY seq",
            (run_id,),
        ).fetchall()
    return [_decoder.decode(row[0]) for row in rows]


def run_quality(trades: list[TradeClosed], thresholds: Thresholds) -> QualityReport:
    """Coverage of a run's own trades (a run keeps no chains: only the trade checks apply)."""
    counts, total = trade_field_counts(trades)
    return assess(counts, total, None, 0, thresholds)


def training_set(
    trades: list[TradeClosed], requirements: DataRequirements, facts: MarketFacts
) -> TrainingSet:
    """The training set of ``trades``; ``InsufficientDataError`` when it is too thin."""
    data = from_trades(trades, facts)
    data.require(requirements)
    return data


def run_training(
    data: TrainingSet,
    *,
    version: str,
    active: Scorer,
    config: TrainerConfig | None = None,
    policy: PromotionPolicy | None = None,
) -> TrainingRun:
    """Train on ``data`` and compare with ``active`` on the latest fold's rows."""
    artifact = train(data, version=version, config=config)
    latest = artifact.metadata.latest
    active_metrics = evaluate_scorer(
        active, data, rows_of_day(data, latest.validation_day.toordinal())
    )
    return TrainingRun(artifact, decide(latest.metrics, active_metrics, policy))


@dataclass(frozen=True)
class PreparedData:
    """A training set thick enough to train on, and the quality report of its window."""

    data: TrainingSet
    quality: QualityReport


def prepare(
    request: TrainingRequest, *, database_url: str, facts: MarketFacts, progress: Progress
) -> PreparedData:
    """Read the closed trades and check the data (trades dated by ``facts``); raises
    ``InsufficientDataError`` (too little data) or ``DataQualityFailed`` (unless
    ``request.force``), before anything is trained."""
    if request.run_id is None:
        progress("reading closed trades")
        trades = closed_trades(database_url)
    else:
        progress(f"reading the closed trades of run {request.run_id}")
        trades = load_run_trades(database_url, request.run_id)
    data = training_set(trades, request.config.requirements, facts)
    progress(f"{data.rows:,} rows over {len(data.days)} trading days; checking data quality")
    report = (
        quality_report(database_url, request.quality_days, request.thresholds)
        if request.run_id is None
        else run_quality(trades, request.thresholds)
    )
    if not report.passed:
        if not request.force:
            scope = (
                f"the last {request.quality_days} days of data"
                if request.run_id is None
                else f"the trades of run {request.run_id}"
            )
            raise DataQualityFailed(report, scope)
        progress(f"data quality below threshold on {len(report.failures)} fields: forced")
    return PreparedData(data, report)


async def train_and_register(
    request: TrainingRequest,
    prepared: PreparedData,
    *,
    registry: ModelRegistry,
    progress: Progress,
) -> TrainingOutcome:
    """Train on the prepared data, gate against the active model, and register the model."""
    active, scorer = await _active_and_scorer(registry, progress)
    progress(f"training {request.version} (walk-forward by trading day) against {scorer.version}")
    run = await asyncio.to_thread(
        run_training, prepared.data, version=request.version, active=scorer,
        config=request.config, policy=request.policy,
    )  # fmt: skip
    if request.out_dir is not None:
        write_artifact(run.artifact, request.out_dir)
    progress("registering the model")
    previous = None if active is None else active.model_version
    registration = await registry.register(run.artifact, run.decision, previous)
    return TrainingOutcome(run, registration, prepared.quality)


async def _active_and_scorer(
    registry: ModelRegistry, progress: Progress
) -> tuple[ModelRecord | None, Scorer]:
    """The promoted model (if any) and what to compare with: its scorer, or the baseline when
    none was promoted or it can no longer be loaded (it is still the one a promotion retires)."""
    try:
        active = await registry.active()
    except (ModelError, ModelNotStored) as exc:
        promoted = await registry.promoted()
        progress(f"the active model cannot score ({exc}); comparing with the baseline")
        return (None if promoted is None else promoted.model), BaselineScorer()
    if active is None:
        return None, BaselineScorer()
    return active.promoted.model, active.scorer
