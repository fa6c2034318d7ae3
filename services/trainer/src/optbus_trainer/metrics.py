"""Classification metrics with numpy alone: AUC (rank statistic), log loss, Brier, calibration."""

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
