"""Walk-forward training of the LightGBM classifier and regressor, and the artifacts they produce.

Both share one machinery, parametrised by an ``Objective``: the classifier learns ``winner``
(binary log loss), the regressor the return in percent, ``pnl_pct`` (L2). Each fold trains on
the days before its validation day and stops early on that day. The shipped model is then refit
on every row with the number of trees the latest fold chose, so it has learned from the most
recent day too; its metrics are those of the folds (out of sample). Training is deterministic:
one thread, fixed seeds, ``deterministic=True`` and column-wise histograms, so the same rows
give the same model text, byte for byte.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

import lightgbm as lgb
import msgspec
import numpy as np
import numpy.typing as npt

from optbus.features import FEATURE_NAMES_HASH, FEATURES_VERSION
from optbus_trainer.dataset import DataRequirements, TrainingSet
from optbus_trainer.metrics import Metrics, RegressionMetrics, evaluate, evaluate_regression
from optbus_trainer.walkforward import Fold, walk_forward_folds

Param = str | int | float | bool
M = TypeVar("M", Metrics, RegressionMetrics)


@dataclass(frozen=True, slots=True)
class Objective(Generic[M]):
    """What a model learns: LightGBM's objective and early-stopping metric, the label column of
    a ``TrainingSet``, and the metrics its out-of-sample predictions are judged by."""

    name: str
    metric: str
    label: Callable[[TrainingSet], npt.NDArray[np.float64]]
    evaluate: Callable[[npt.ArrayLike, npt.ArrayLike], M]


def _winner(data: TrainingSet) -> npt.NDArray[np.float64]:
    return data.winner.astype(np.float64)


def _pnl_pct(data: TrainingSet) -> npt.NDArray[np.float64]:
    return data.pnl_pct


CLASSIFIER: Objective[Metrics] = Objective("binary", "binary_logloss", _winner, evaluate)
"""The probability of a winner (net P&L above zero; a positive forward return for a chain row)."""

REGRESSOR: Objective[RegressionMetrics] = Objective(
    "regression", "l2", _pnl_pct, evaluate_regression
)
"""The return in percent (a trade's net P&L over its premium; a chain row's forward return)."""


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

    def params(self, objective: Objective[Any] = CLASSIFIER) -> dict[str, Param]:
        """The LightGBM parameters of ``objective``, deterministic whatever the machine."""
        return {
            "objective": objective.name,
            "metric": objective.metric,
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


class FoldSummary(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One walk-forward fold but its metrics: what it trained on, the trees it kept, by gain."""

    validation_day: date
    train_first_day: date
    train_last_day: date
    train_rows: int
    best_iteration: int
    importance_gain: dict[str, float]


class FoldResult(FoldSummary, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One walk-forward fold of the classifier, with its out-of-sample metrics."""

    metrics: Metrics


class RegressorFold(FoldSummary, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One walk-forward fold of the regressor, with its out-of-sample metrics."""

    metrics: RegressionMetrics


class ModelIdentity(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What any model's metadata holds: identity, features, parameters, window, importance."""

    version: str
    model_sha256: str
    objective: str = CLASSIFIER.name
    features_version: str
    feature_names: tuple[str, ...]
    feature_names_hash: str
    params: dict[str, Param]
    num_trees: int
    train_first_day: date
    train_last_day: date
    rows: int
    days: int
    importance_gain: dict[str, float]
    library_versions: dict[str, str]


class ModelMetadata(ModelIdentity, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Everything about a classifier but its text, with its walk-forward metrics.

    ``latest`` is the last fold (what the promotion gate compares); ``pooled`` the metrics of
    every fold's out-of-sample predictions together.
    """

    folds: tuple[FoldResult, ...]
    latest: FoldResult
    pooled: Metrics


class RegressorMetadata(ModelIdentity, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Everything about a regressor but its text, with its walk-forward metrics (as a
    classifier's: ``latest`` fold, ``pooled`` out-of-sample predictions)."""

    folds: tuple[RegressorFold, ...]
    latest: RegressorFold
    pooled: RegressionMetrics


class ModelArtifact(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A trained classifier: LightGBM text and its metadata (whose sha256 is that of the text)."""

    metadata: ModelMetadata
    model_text: str


class RegressorArtifact(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A trained regressor: LightGBM text and its metadata (whose sha256 is that of the text)."""

    metadata: RegressorMetadata
    model_text: str


def sha256_text(text: str) -> str:
    """sha256 (hex) of the UTF-8 bytes of a model's text."""
    return hashlib.sha256(text.encode()).hexdigest()


def train(data: TrainingSet, *, version: str, config: TrainerConfig | None = None) -> ModelArtifact:
    """Walk-forward validate the classifier, refit on all rows, return it with its metadata.

    Raises ``InsufficientDataError`` (a clear message) when the data is too little.
    """
    fit = _fit(data, version, config or TrainerConfig(), CLASSIFIER)
    folds = tuple(FoldResult(**summary, metrics=m) for summary, m in fit.folds)
    metadata = ModelMetadata(**fit.identity, folds=folds, latest=folds[-1], pooled=fit.pooled)
    return ModelArtifact(metadata=metadata, model_text=fit.text)


def train_regressor(
    data: TrainingSet, *, version: str, config: TrainerConfig | None = None
) -> RegressorArtifact:
    """Walk-forward validate the regressor of ``pnl_pct``, refit on all rows, return it.

    Raises ``InsufficientDataError`` (a clear message) when the data is too little.
    """
    fit = _fit(data, version, config or TrainerConfig(), REGRESSOR)
    folds = tuple(RegressorFold(**summary, metrics=m) for summary, m in fit.folds)
    metadata = RegressorMetadata(**fit.identity, folds=folds, latest=folds[-1], pooled=fit.pooled)
    return RegressorArtifact(metadata=metadata, model_text=fit.text)


def library_versions() -> dict[str, str]:
    """The versions that shaped a model: Python, LightGBM, numpy, msgspec."""
    return {
        "python": platform.python_version(),
        "lightgbm": lgb.__version__,
        "numpy": np.__version__,
        "msgspec": msgspec.__version__,
    }


@dataclass(frozen=True, slots=True)
class _Fit(Generic[M]):
    """A trained model before it is typed: identity fields, folds as (summary fields, metrics)."""

    identity: dict[str, Any]
    folds: list[tuple[dict[str, Any], M]]
    pooled: M
    text: str


def _fit(
    data: TrainingSet, version: str, config: TrainerConfig, objective: Objective[M]
) -> _Fit[M]:
    data.require(config.requirements)
    folds = walk_forward_folds(data.day, folds=config.folds, min_train_days=config.min_train_days)
    params = config.params(objective)
    label = objective.label(data)
    results: list[tuple[dict[str, Any], M]] = []
    out_of_sample = []
    for fold in folds:
        summary, predicted = _run_fold(data, label, fold, params, config)
        results.append((summary, objective.evaluate(label[fold.valid_index], predicted)))
        out_of_sample.append((label[fold.valid_index], predicted))
    booster = lgb.train(
        params,
        _dataset(data, label, np.arange(data.rows)),
        num_boost_round=results[-1][0]["best_iteration"],
    )
    text = booster.model_to_string()
    days = data.days
    identity = {
        "version": version,
        "model_sha256": sha256_text(text),
        "objective": objective.name,
        "features_version": FEATURES_VERSION,
        "feature_names": data.feature_names,
        "feature_names_hash": FEATURE_NAMES_HASH,
        "params": params,
        "num_trees": booster.num_trees(),
        "train_first_day": days[0],
        "train_last_day": days[-1],
        "rows": data.rows,
        "days": len(days),
        "importance_gain": _importance(booster, data.feature_names),
        "library_versions": library_versions(),
    }
    pooled = objective.evaluate(
        np.concatenate([y for y, _ in out_of_sample]),
        np.concatenate([p for _, p in out_of_sample]),
    )
    return _Fit(identity=identity, folds=results, pooled=pooled, text=text)


def _run_fold(
    data: TrainingSet,
    label: npt.NDArray[np.float64],
    fold: Fold,
    params: dict[str, Param],
    config: TrainerConfig,
) -> tuple[dict[str, Any], npt.NDArray[np.float64]]:
    train_set = _dataset(data, label, fold.train_index)
    valid_set = _dataset(data, label, fold.valid_index, reference=train_set)
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
    summary = FoldSummary(
        validation_day=fold.validation_day,
        train_first_day=date.fromordinal(int(train_days.min())),
        train_last_day=date.fromordinal(int(train_days.max())),
        train_rows=int(fold.train_index.size),
        best_iteration=best,
        importance_gain=_importance(booster, data.feature_names, iteration=best),
    )
    return msgspec.structs.asdict(summary), predicted


def _dataset(
    data: TrainingSet,
    label: npt.NDArray[np.float64],
    index: npt.NDArray[np.int64],
    reference: lgb.Dataset | None = None,
) -> lgb.Dataset:
    return lgb.Dataset(
        data.x[index],
        label=label[index],
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
