"""What the registry announces: model.trained always, model.promoted only on promotion."""

from __future__ import annotations

from optbus.events import ModelPromoted, ModelTrained
from optbus.features import FEATURE_NAMES
from optbus_trainer.dataset import TrainingSet
from optbus_trainer.gate import PromotionDecision
from optbus_trainer.registry import (
    MODEL_KIND,
    Registration,
    model_record,
    registration_events,
    text_object_name,
)
from optbus_trainer.training import ModelArtifact

Planted = tuple[TrainingSet, ModelArtifact, float]
NOW_NS = 1_796_000_000_000_000_000


def _registration(artifact: ModelArtifact, promote: bool) -> Registration:
    decision = PromotionDecision(promote=promote, reason="why", candidate_auc=0.7, active_auc=0.6)
    return Registration(model_record(artifact.metadata), decision, "lgbm-old")


def test_the_record_names_the_model_its_file_features_window_and_latest_fold_metrics(
    planted: Planted,
) -> None:
    _, artifact, _ = planted
    meta = artifact.metadata

    record = model_record(meta)

    assert (record.model_version, record.model_hash, record.kind) == (
        "test-1", meta.model_sha256, MODEL_KIND,
    )  # fmt: skip
    assert record.object_name == text_object_name("test-1") == "test-1.txt"
    assert tuple(record.feature_names) == FEATURE_NAMES
    assert (record.train_first_day, record.train_last_day, record.rows) == (
        meta.train_first_day, meta.train_last_day, meta.rows,
    )  # fmt: skip
    assert record.metrics == {
        "auc": meta.latest.metrics.auc, "log_loss": meta.latest.metrics.log_loss,
        "brier": meta.latest.metrics.brier,
    }  # fmt: skip


def test_a_promoted_model_is_announced_as_trained_then_promoted(planted: Planted) -> None:
    events = registration_events(_registration(planted[1], promote=True), NOW_NS)

    assert [type(e) for e in events] == [ModelTrained, ModelPromoted]
    trained, promoted = events
    assert isinstance(trained, ModelTrained)
    assert trained.promoted
    assert isinstance(promoted, ModelPromoted)
    assert (promoted.previous_version, promoted.reason) == ("lgbm-old", "why")


def test_a_model_kept_is_announced_as_trained_only_with_the_reason(planted: Planted) -> None:
    events = registration_events(_registration(planted[1], promote=False), NOW_NS)

    assert len(events) == 1
    assert isinstance(events[0], ModelTrained)
    assert (events[0].promoted, events[0].reason) == (False, "why")


def test_announcing_the_same_model_again_makes_the_same_event_ids(planted: Planted) -> None:
    registration = _registration(planted[1], promote=True)

    first = registration_events(registration, NOW_NS)
    again = registration_events(registration, NOW_NS + 1)

    assert [e.event_id for e in first] == [e.event_id for e in again]
