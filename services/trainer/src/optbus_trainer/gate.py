"""The promotion gate: a candidate replaces the active model only if it is clearly better on
the latest walk-forward fold. Pure: metrics in, a decision with its reason out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from optbus.scoring import Scorer
from optbus_trainer.dataset import TrainingSet
from optbus_trainer.metrics import Metrics, evaluate


class PromotionPolicy(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Promote when the candidate's AUC on the latest fold beats the active model's by at least
    ``min_auc_gain``; a ``min_auc`` (None: no floor) applies even when no model is active."""

    min_auc_gain: float = 0.01
    min_auc: float | None = None


class PromotionDecision(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Whether to promote, and why (either way), with the AUCs compared."""

    promote: bool
    reason: str
    candidate_auc: float | None
    active_auc: float | None


def decide(
    candidate: Metrics, active: Metrics | None, policy: PromotionPolicy | None = None
) -> PromotionDecision:
    """Compare a candidate with the active model on the same (latest-fold) rows."""
    policy = policy or PromotionPolicy()
    cand = candidate.auc
    act = None if active is None else active.auc

    def decision(promote: bool, reason: str) -> PromotionDecision:
        return PromotionDecision(promote=promote, reason=reason, candidate_auc=cand, active_auc=act)

    if cand is None:
        return decision(False, "candidate AUC undefined on the latest fold (one label only)")
    if policy.min_auc is not None and cand < policy.min_auc:
        return decision(False, f"candidate AUC {cand:.4f} below the floor {policy.min_auc:.4f}")
    if active is None:
        return decision(True, f"no active model; candidate AUC {cand:.4f}")
    if act is None:
        return decision(True, f"active model's AUC undefined; candidate AUC {cand:.4f}")
    needed = act + policy.min_auc_gain
    if cand >= needed:
        return decision(
            True,
            f"candidate AUC {cand:.4f} beats active {act:.4f} "
            f"by {cand - act:+.4f} (margin {policy.min_auc_gain:.4f})",
        )
    return decision(
        False,
        f"candidate AUC {cand:.4f} does not beat active {act:.4f} "
        f"by the margin {policy.min_auc_gain:.4f} (needs {needed:.4f})",
    )


def evaluate_scorer(scorer: Scorer, data: TrainingSet, rows: Sequence[int]) -> Metrics:
    """The metrics of any scorer (the active model, or the baseline rule) on some rows, such as
    the latest fold's validation day, to compare with a candidate's on the same rows."""
    index = np.asarray(rows, dtype=np.int64)
    names = data.feature_names
    scores = [scorer.score(_row(names, data.x[i])) for i in index]
    return evaluate(data.winner[index], np.asarray(scores, dtype=np.float64))


def rows_of_day(data: TrainingSet, day_ordinal: int) -> list[int]:
    """The row indices of one trading day (``date.toordinal``)."""
    return [int(i) for i in np.flatnonzero(data.day == day_ordinal)]


def _row(names: tuple[str, ...], values: npt.NDArray[np.float64]) -> Mapping[str, float]:
    return {name: float(v) for name, v in zip(names, values, strict=True)}
