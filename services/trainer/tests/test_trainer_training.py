from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np

from optbus.features import FEATURE_NAMES
from optbus_trainer.dataset import TrainingSet
from optbus_trainer.training import ModelArtifact, TrainerConfig, train
from optbus_trainer.walkforward import walk_forward_folds

MakeSet = Callable[..., TrainingSet]
Planted = tuple[TrainingSet, ModelArtifact, float]


def test_the_trainer_learns_a_planted_relation_between_features_and_label(
    planted: Planted,
) -> None:
    _, artifact, _ = planted
    meta = artifact.metadata
    assert meta.latest.metrics.auc is not None
    assert meta.latest.metrics.auc > 0.7
    assert meta.pooled.auc is not None
    assert meta.pooled.auc > 0.7
    top = max(meta.importance_gain, key=lambda name: meta.importance_gain[name])
    assert top == "signal_strength"


def test_with_shuffled_labels_the_trainer_finds_nothing(make_set: MakeSet) -> None:
    artifact = train(make_set(days=10, per_day=250, seed=1, shuffle_labels=True), version="s")
    meta = artifact.metadata
    assert meta.latest.metrics.auc is not None
    assert meta.latest.metrics.auc < 0.6
    assert meta.pooled.auc is not None
    assert meta.pooled.auc < 0.6


def test_walk_forward_never_trains_on_a_day_later_than_the_one_it_validates_on(
    make_set: MakeSet,
) -> None:
    data = make_set(days=8, per_day=5)
    folds = walk_forward_folds(data.day, folds=4, min_train_days=2)
    assert [f.validation_day for f in folds] == [date(2026, 11, d) for d in (6, 7, 8, 9)]
    for fold in folds:
        validation = fold.validation_day.toordinal()
        assert data.day[fold.train_index].max() < validation
        assert set(data.day[fold.valid_index].tolist()) == {validation}
        assert fold.train_index.size == (validation - date(2026, 11, 2).toordinal()) * 5


def test_the_folds_in_the_metadata_train_only_before_their_validation_day(
    planted: Planted,
) -> None:
    data, artifact, _ = planted
    meta = artifact.metadata
    assert len(meta.folds) == 3
    for fold in meta.folds:
        assert fold.train_last_day < fold.validation_day
        assert fold.metrics.rows == 250
        assert len(fold.metrics.calibration) > 0
    assert meta.latest == meta.folds[-1]
    assert meta.latest.validation_day == data.days[-1]
    assert (meta.train_first_day, meta.train_last_day) == (data.days[0], data.days[-1])


def test_the_same_data_gives_the_same_model_byte_for_byte(
    planted: Planted,
) -> None:
    data, artifact, _ = planted
    again = train(data, version="test-1")
    assert again.model_text == artifact.model_text
    assert again.metadata.model_sha256 == artifact.metadata.model_sha256
    assert again.metadata == artifact.metadata


def test_another_seed_or_other_data_gives_another_hash(planted: Planted, make_set: MakeSet) -> None:
    _, artifact, _ = planted
    other = train(make_set(days=10, per_day=250, seed=2), version="test-1")
    assert other.metadata.model_sha256 != artifact.metadata.model_sha256


def test_the_metadata_records_features_parameters_window_and_library_versions(
    planted: Planted,
) -> None:
    data, artifact, seconds = planted
    meta = artifact.metadata
    assert meta.feature_names == FEATURE_NAMES
    assert meta.params["deterministic"] is True
    assert meta.params["num_threads"] == 1
    assert meta.params["seed"] == TrainerConfig().seed
    assert meta.rows == data.rows == 2500
    assert meta.days == 10
    assert {"lightgbm", "numpy", "python", "msgspec"} <= set(meta.library_versions)
    assert 1 <= meta.num_trees <= TrainerConfig().num_boost_round
    assert meta.num_trees == meta.latest.best_iteration
    assert seconds < 20
    assert np.isfinite(meta.pooled.log_loss)
    assert 0 <= meta.pooled.brier <= 1
