"""One training run from the database: closed trades in, a model and its gate decision out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec
import psycopg

from optbus.events import TradeClosed
from optbus_strategy.scoring import Scorer
from optbus_trainer.dataset import DataRequirements, from_trades
from optbus_trainer.gate import PromotionDecision, decide, evaluate_scorer, rows_of_day
from optbus_trainer.storage import write_artifact
from optbus_trainer.training import ModelArtifact, TrainerConfig, train

_decoder = msgspec.json.Decoder(TradeClosed)


@dataclass(frozen=True)
class TrainingRun:
    """What ``optbus train`` did: the model, where it is, and whether it should be promoted."""

    artifact: ModelArtifact
    model_path: Path
    metadata_path: Path
    decision: PromotionDecision


def load_closed_trades(database_url: str) -> list[TradeClosed]:
    """Every closed trade in the database's event log, oldest first."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT payload::text FROM events WHERE type = 'exec.trade.closed' ORDER BY time, seq"
        ).fetchall()
    return [_decoder.decode(row[0]) for row in rows]


def run_training(
    trades: list[TradeClosed],
    *,
    version: str,
    active: Scorer,
    out_dir: Path,
    requirements: DataRequirements | None = None,
    config: TrainerConfig | None = None,
) -> TrainingRun:
    """Train on ``trades`` (``InsufficientDataError`` when too few), compare with ``active``."""
    data = from_trades(trades)
    data.require(requirements or DataRequirements())
    artifact = train(data, version=version, config=config)
    latest = artifact.metadata.latest
    active_metrics = evaluate_scorer(
        active, data, rows_of_day(data, latest.validation_day.toordinal())
    )
    model_path, metadata_path = write_artifact(artifact, out_dir)
    return TrainingRun(artifact, model_path, metadata_path, decide(latest.metrics, active_metrics))
