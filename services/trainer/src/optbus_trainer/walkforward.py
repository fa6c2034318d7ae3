"""Walk-forward folds by trading day: each fold trains on days strictly before the one it
validates on, never on a random split across time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from optbus_trainer.dataset import InsufficientDataError


@dataclass(frozen=True, slots=True)
class Fold:
    """Row indices to train on (every day before ``validation_day``) and to validate on."""

    validation_day: date
    train_index: npt.NDArray[np.int64]
    valid_index: npt.NDArray[np.int64]


def walk_forward_folds(
    day: npt.NDArray[np.int64], *, folds: int, min_train_days: int
) -> list[Fold]:
    """One fold for each of the last ``folds`` trading days (oldest first), each training on all
    the days before it (an expanding window); at least ``min_train_days`` days to train on."""
    if folds < 1 or min_train_days < 1:
        raise ValueError("folds and min_train_days must be at least 1")
    days = np.unique(day)
    if days.size < min_train_days + 1:
        raise InsufficientDataError(
            f"not enough data to train: {days.size} trading days, walk-forward needs at least "
            f"{min_train_days + 1} ({min_train_days} to train, 1 to validate)"
        )
    first = max(min_train_days, days.size - folds)
    result = []
    for validation in days[first:]:
        result.append(
            Fold(
                validation_day=date.fromordinal(int(validation)),
                train_index=np.flatnonzero(day < validation).astype(np.int64),
                valid_index=np.flatnonzero(day == validation).astype(np.int64),
            )
        )
    return result
