"""Metrics with numpy alone: for a classifier AUC (rank statistic), log loss, Brier and a
calibration table; for a regressor RMSE, MAE and R²."""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

_EPS = 1e-15


class CalibrationBin(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Predictions in [lower, upper): how many, their mean, and the observed rate of winners."""

    lower: float
    upper: float
    count: int
    mean_predicted: float
    observed: float


class Metrics(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How well probabilities ``p`` predict labels ``y`` on one set of rows.

    ``auc`` is None when the rows hold only one label (it is undefined there).
    """

    rows: int
    positives: int
    auc: float | None
    log_loss: float
    brier: float
    calibration: tuple[CalibrationBin, ...]


def auc(y: npt.ArrayLike, p: npt.ArrayLike) -> float | None:
    """Area under the ROC curve by the Mann-Whitney rank statistic (ties get average ranks)."""
    labels = np.asarray(y, dtype=bool)
    scores = np.asarray(p, dtype=np.float64)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = _average_ranks(scores)
    rank_sum = float(ranks[labels].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def log_loss(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean negative log likelihood of the labels, probabilities clipped to [1e-15, 1 - 1e-15]."""
    labels = np.asarray(y, dtype=np.float64)
    probs = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return float(-np.mean(labels * np.log(probs) + (1 - labels) * np.log(1 - probs)))


def brier(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean squared difference between probability and label."""
    labels = np.asarray(y, dtype=np.float64)
    return float(np.mean((np.asarray(p, dtype=np.float64) - labels) ** 2))


def calibration(y: npt.ArrayLike, p: npt.ArrayLike, bins: int = 10) -> tuple[CalibrationBin, ...]:
    """Deciles of predicted probability (equal width, 0-0.1, ..., 0.9-1): empty ones left out."""
    labels = np.asarray(y, dtype=np.float64)
    probs = np.asarray(p, dtype=np.float64)
    index = np.minimum((probs * bins).astype(np.int64), bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        if count:
            table.append(
                CalibrationBin(
                    lower=b / bins,
                    upper=(b + 1) / bins,
                    count=count,
                    mean_predicted=float(probs[mask].mean()),
                    observed=float(labels[mask].mean()),
                )
            )
    return tuple(table)


def evaluate(y: npt.ArrayLike, p: npt.ArrayLike) -> Metrics:
    """All the metrics of probabilities ``p`` against labels ``y``."""
    labels = np.asarray(y)
    if labels.size == 0:
        raise ValueError("no rows to evaluate")
    return Metrics(
        rows=int(labels.size),
        positives=int(np.asarray(labels, dtype=bool).sum()),
        auc=auc(labels, p),
        log_loss=log_loss(labels, p),
        brier=brier(labels, p),
        calibration=calibration(labels, p),
    )


class RegressionMetrics(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How well predictions ``p`` estimate targets ``y`` on one set of rows.

    ``r2`` compares with the best constant (the rows' own mean): above 0 is better than it, 0
    is no better, below 0 is worse; None when the targets do not vary.
    """

    rows: int
    rmse: float
    mae: float
    r2: float | None


def evaluate_regression(y: npt.ArrayLike, p: npt.ArrayLike) -> RegressionMetrics:
    """RMSE, MAE and R² of predictions ``p`` against targets ``y``."""
    targets = np.asarray(y, dtype=np.float64)
    if targets.size == 0:
        raise ValueError("no rows to evaluate")
    errors = np.asarray(p, dtype=np.float64) - targets
    squared = float(np.sum(errors**2))
    spread = float(np.sum((targets - targets.mean()) ** 2))
    return RegressionMetrics(
        rows=int(targets.size),
        rmse=float(np.sqrt(squared / targets.size)),
        mae=float(np.mean(np.abs(errors))),
        r2=1.0 - squared / spread if spread > 0 else None,
    )


def _average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """1-based ranks of ``values``, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    boundaries = np.flatnonzero(np.diff(ordered)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [ordered.size]))
    ranks_sorted = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = ranks_sorted
    return ranks
