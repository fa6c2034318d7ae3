"""Walk-forward training of the LightGBM classifier and the model artifact it produces.

Each fold trains on the days before its validation day and stops early on that day (binary log
loss). The shipped model is then refit on every row with the number of trees the latest fold
chose, so it has learned from the most recent day too; its metrics are those of the folds
(out of sample). Training is deterministic: one thread, fixed seeds, ``deterministic=True`` and
column-wise histograms, so the same rows give the same model text, byte for byte.
"""

from __future__ import annotations

import hashlib
import platform
from datetime import date

import lightgbm as lgb
import msgspec
import numpy as np
import numpy.typing as npt

from optbus.features import FEATURE_NAMES_HASH, FEATURES_VERSION
from optbus_trainer.dataset import DataRequirements, TrainingSet
from optbus_trainer.metrics import Metrics, evaluate
from optbus_trainer.walkforward import Fold, walk_forward_folds

Param = str | int | float | bool


class TrainerConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What to require of the data, how to fold it and how to grow the trees."""

    requirements: DataRequirements = DataRequirements()
    folds: int = 3
    min_train_days: int = 3
    num_boost_round: int = 500
    early_stopping_rounds: int = 30
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 20
    lambda_l2: float = 1.0
    seed: int = 20261122

    def params(self) -> dict[str, Param]:
        """The LightGBM parameters, deterministic whatever the machine."""
        return {
            "objective": "binary",
            "metric": "binary_logloss",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "lambda_l2": self.lambda_l2,
            "deterministic": True,
            "num_threads": 1,
            "force_col_wise": True,
            "seed": self.seed,
            "bagging_seed": self.seed,
            "feature_fraction_seed": self.seed,
            "data_random_seed": self.seed,
            "verbosity": -1,
        }


class FoldResult(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One walk-forward fold: what it trained on, the trees it kept, how it did, by gain."""

    validation_day: date
    train_first_day: date
    train_last_day: date
    train_rows: int
    best_iteration: int
    metrics: Metrics
    importance_gain: dict[str, float]


class ModelMetadata(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Everything about a model but its text: identity, features, parameters, window, metrics.

    ``latest`` is the last fold (what the promotion gate compares); ``pooled`` the metrics of
    every fold's out-of-sample predictions together.
    """

    version: str
    model_sha256: str
    features_version: str
    feature_names: tuple[str, ...]
    feature_names_hash: str
    params: dict[str, Param]
    num_trees: int
    train_first_day: date
    train_last_day: date
    rows: int
    days: int
    folds: tuple[FoldResult, ...]
    latest: FoldResult
    pooled: Metrics
    importance_gain: dict[str, float]
    library_versions: dict[str, str]


class ModelArtifact(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A trained model: LightGBM text and its metadata (whose sha256 is that of the text)."""

    metadata: ModelMetadata
    model_text: str


def sha256_text(text: str) -> str:
    """sha256 (hex) of the UTF-8 bytes of a model's text."""
    return hashlib.sha256(text.encode()).hexdigest()


def train(data: TrainingSet, *, version: str, config: TrainerConfig | None = None) -> ModelArtifact:
    """Walk-forward validate, refit on all rows, and return the model with its metadata.

    Raises ``InsufficientDataError`` (a clear message) when the data is too little.
    """
    config = config or TrainerConfig()
    data.require(config.requirements)
    folds = walk_forward_folds(data.day, folds=config.folds, min_train_days=config.min_train_days)
    params = config.params()
    results, out_of_sample = [], []
    for fold in folds:
        result, predicted = _run_fold(data, fold, params, config)
        results.append(result)
        out_of_sample.append((data.winner[fold.valid_index], predicted))
    latest = results[-1]
    booster = lgb.train(
        params, _dataset(data, np.arange(data.rows)), num_boost_round=latest.best_iteration
    )
    text = booster.model_to_string()
    days = data.days
    metadata = ModelMetadata(
        version=version,
        model_sha256=sha256_text(text),
        features_version=FEATURES_VERSION,
        feature_names=data.feature_names,
        feature_names_hash=FEATURE_NAMES_HASH,
        params=params,
        num_trees=booster.num_trees(),
        train_first_day=days[0],
        train_last_day=days[-1],
        rows=data.rows,
        days=len(days),
        folds=tuple(results),
        latest=latest,
        pooled=evaluate(
            np.concatenate([y for y, _ in out_of_sample]),
            np.concatenate([p for _, p in out_of_sample]),
        ),
        importance_gain=_importance(booster, data.feature_names),
        library_versions=library_versions(),
    )
    return ModelArtifact(metadata=metadata, model_text=text)


def library_versions() -> dict[str, str]:
    """The versions that shaped a model: Python, LightGBM, numpy, msgspec."""
    return {
        "python": platform.python_version(),
        "lightgbm": lgb.__version__,
        "numpy": np.__version__,
        "msgspec": msgspec.__version__,
    }


def _run_fold(
    data: TrainingSet, fold: Fold, params: dict[str, Param], config: TrainerConfig
) -> tuple[FoldResult, npt.NDArray[np.float64]]:
    train_set = _dataset(data, fold.train_index)
    valid_set = _dataset(data, fold.valid_index, reference=train_set)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=config.num_boost_round,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    best = max(1, booster.best_iteration or config.num_boost_round)
    predicted = np.asarray(
        booster.predict(data.x[fold.valid_index], num_iteration=best), dtype=np.float64
    )
    train_days = data.day[fold.train_index]
    result = FoldResult(
        validation_day=fold.validation_day,
        train_first_day=date.fromordinal(int(train_days.min())),
        train_last_day=date.fromordinal(int(train_days.max())),
        train_rows=int(fold.train_index.size),
        best_iteration=best,
        metrics=evaluate(data.winner[fold.valid_index], predicted),
        importance_gain=_importance(booster, data.feature_names, iteration=best),
    )
    return result, predicted


def _dataset(
    data: TrainingSet, index: npt.NDArray[np.int64], reference: lgb.Dataset | None = None
) -> lgb.Dataset:
    return lgb.Dataset(
        data.x[index],
        label=data.winner[index].astype(np.float64),
        feature_name=list(data.feature_names),
        reference=reference,
        params={"verbosity": -1},
        free_raw_data=True,
    )


def _importance(
    booster: lgb.Booster, names: tuple[str, ...], iteration: int | None = None
) -> dict[str, float]:
    gains = booster.feature_importance(importance_type="gain", iteration=iteration)
    return {name: float(gain) for name, gain in zip(names, gains, strict=True)}
