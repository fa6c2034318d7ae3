"""The LightGBM regressor: it learns a planted relation and nothing else, deterministically."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from optbus.features import FEATURE_NAMES
from optbus_trainer.dataset import Example, TrainingSet, from_examples
from optbus_trainer.metrics import evaluate_regression
from optbus_trainer.training import RegressorArtifact, train, train_regressor


def planted_returns(*, days: int = 8, per_day: int = 200, seed: int = 3,
                    shuffle: bool = False) -> TrainingSet:  # fmt: skip
    """Returns that rise with ``signal_strength`` and fall with ``relative_spread``, plus noise;
    every other feature is noise."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    x = rng.normal(size=(n, len(FEATURE_NAMES)))
    strength = x[:, FEATURE_NAMES.index("signal_strength")]
    spread = x[:, FEATURE_NAMES.index("relative_spread")]
    returns = 4.0 * strength - 2.0 * spread + rng.normal(0.0, 2.0, n)
    if shuffle:
        returns = rng.permutation(returns)
    first = date(2026, 11, 2)
    return from_examples(
        Example(
            features=dict(zip(FEATURE_NAMES, map(float, x[i]), strict=True)),
            winner=bool(returns[i] > 0),
            pnl_pct=float(returns[i]),
            day=first + timedelta(days=i // per_day),
        )
        for i in range(n)
    )


@pytest.fixture(scope="module")
def planted() -> tuple[TrainingSet, RegressorArtifact]:
    data = planted_returns()
    return data, train_regressor(data, version="reg-1")


def test_the_regressor_beats_the_best_constant_on_a_planted_relation(
    planted: tuple[TrainingSet, RegressorArtifact],
) -> None:
    _, artifact = planted
    latest = artifact.metadata.latest.metrics

    assert latest.r2 is not None
    assert latest.r2 > 0.5


def test_the_regressor_ranks_the_planted_features_first_by_gain(
    planted: tuple[TrainingSet, RegressorArtifact],
) -> None:
    gain = planted[1].metadata.importance_gain

    top_two = sorted(gain, key=lambda name: gain[name], reverse=True)[:2]

    assert top_two == ["signal_strength", "relative_spread"]


def test_with_shuffled_returns_the_regressor_does_no_better_than_a_constant() -> None:
    artifact = train_regressor(planted_returns(shuffle=True), version="reg-s")
    pooled = artifact.metadata.pooled

    assert pooled.r2 is not None
    assert pooled.r2 < 0.05


def test_the_same_data_gives_the_same_regressor_byte_for_byte(
    planted: tuple[TrainingSet, RegressorArtifact],
) -> None:
    data, artifact = planted

    again = train_regressor(data, version="reg-1")

    assert again.metadata.model_sha256 == artifact.metadata.model_sha256
    assert again.model_text == artifact.model_text


def test_the_regressor_records_its_objective_and_the_classifier_its_own(
    planted: tuple[TrainingSet, RegressorArtifact],
) -> None:
    data, artifact = planted

    classifier = train(data, version="cls-1")

    assert (artifact.metadata.objective, artifact.metadata.params["objective"]) == (
        "regression", "regression",
    )  # fmt: skip
    assert classifier.metadata.objective == classifier.metadata.params["objective"] == "binary"
    assert classifier.metadata.model_sha256 != artifact.metadata.model_sha256


def test_regression_metrics_of_known_errors() -> None:
    metrics = evaluate_regression([1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 3.0, 2.0])

    assert (metrics.rmse, metrics.mae, metrics.r2) == pytest.approx((np.sqrt(5 / 4), 0.75, 0.0))


def test_r2_is_undefined_when_the_targets_do_not_vary() -> None:
    assert evaluate_regression([1.0, 1.0], [1.0, 2.0]).r2 is None
