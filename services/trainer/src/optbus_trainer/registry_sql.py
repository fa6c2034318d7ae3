"""The ``models`` table and its status history (schema: optbus_persistence/sql/models.sql)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from psycopg.types.json import Jsonb

from optbus import database
from optbus.events import ModelRecord
from optbus_trainer.training import ModelMetadata

_INSERT_MODEL = """
INSERT INTO models (model_version, model_hash, kind, object_name, registered_at,
    features_version, feature_names, params, train_first_day, train_last_day, rows, days,
    metrics, library_versions, metadata)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (model_version) DO NOTHING
"""
_INSERT_STATUS = """
INSERT INTO model_status_changes (time, model_version, status, reason) VALUES (%s, %s, %s, %s)
ON CONFLICT (model_version, status) DO NOTHING
"""
_RETIRE = """
INSERT INTO model_status_changes (time, model_version, status, reason)
SELECT %s, model_version, 'retired', %s FROM models WHERE model_version = %s
ON CONFLICT (model_version, status) DO NOTHING
"""


@dataclass(frozen=True)
class RegisteredModel:
    """One row of ``model_registry``: a model and its current status."""

    model_version: str
    model_hash: str
    status: str
    status_reason: str
    train_first_day: date
    train_last_day: date
    rows: int
    metrics: dict[str, Any]


def _jsonb(value: object) -> Jsonb:
    return Jsonb(msgspec.to_builtins(value))


def record_registration(
    database_url: str,
    *,
    record: ModelRecord,
    metadata: ModelMetadata,
    status: str,
    reason: str,
    previous_version: str | None,
    now_ns: int,
) -> None:
    """Insert the model and its status in one transaction; on promotion, retire the model it
    replaces. Inserting the same model again changes nothing."""
    at = datetime.fromtimestamp(now_ns / 1e9, tz=UTC)
    with database.connect(database_url) as conn, conn.transaction():
        conn.execute(
            _INSERT_MODEL,
            (record.model_version, record.model_hash, record.kind, record.object_name, at,
             metadata.features_version, list(metadata.feature_names), _jsonb(metadata.params),
             metadata.train_first_day, metadata.train_last_day, metadata.rows, metadata.days,
             _jsonb(metadata.latest.metrics), _jsonb(metadata.library_versions),
             _jsonb(metadata)),
        )  # fmt: skip
        conn.execute(_INSERT_STATUS, (at, record.model_version, status, reason))
        if status == "active" and previous_version is not None:
            conn.execute(_RETIRE, (at, f"replaced by {record.model_version}", previous_version))


def registered_models(database_url: str) -> list[RegisteredModel]:
    """Every registered model with its current status, oldest first."""
    with database.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT model_version, model_hash, status, status_reason, train_first_day, "
            "train_last_day, rows, metrics FROM model_registry ORDER BY registered_at, "
            "model_version"
        ).fetchall()
    return [RegisteredModel(*row) for row in rows]
