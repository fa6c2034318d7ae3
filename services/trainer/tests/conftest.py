"""Synthetic closed trades with a planted relation: the higher ``signal_strength`` and the
narrower ``relative_spread``, the likelier a winner; every other feature is noise."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pytest

from optbus.features import FEATURE_NAMES
from optbus_trainer.dataset import Example, TrainingSet, from_examples
from optbus_trainer.training import ModelArtifact, train

MakeSet = Callable[..., TrainingSet]


def synthetic_examples(
    *, days: int = 10, per_day: int = 250, seed: int = 1, shuffle_labels: bool = False
) -> list[Example]:
    rng = np.random.default_rng(seed)
    first = date(2026, 11, 2)
    examples = []
    n = days * per_day
    x = rng.normal(size=(n, len(FEATURE_NAMES)))
    strength = x[:, FEATURE_NAMES.index("signal_strength")]
    spread = x[:, FEATURE_NAMES.index("relative_spread")]
    p = 1 / (1 + np.exp(-(2.0 * strength - 1.0 * spread)))
    winner = rng.random(n) < p
    if shuffle_labels:
        winner = rng.permutation(winner)
    for i in range(n):
        examples.append(
            Example(
                features=dict(zip(FEATURE_NAMES, map(float, x[i]), strict=True)),
                winner=bool(winner[i]),
                pnl_pct=float(rng.normal(5 if winner[i] else -5, 3)),
                day=first + timedelta(days=i // per_day),
            )
        )
    return examples


@pytest.fixture
def make_set() -> MakeSet:
    def make(**kwargs: object) -> TrainingSet:
        return from_examples(synthetic_examples(**kwargs))  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_examples() -> Callable[..., list[Example]]:
    return synthetic_examples


@pytest.fixture(scope="session")
def planted() -> tuple[TrainingSet, ModelArtifact, float]:
    """2,500 trades over 10 days with the planted relation, the model trained on them, and the
    seconds training took."""
    data = from_examples(synthetic_examples(days=10, per_day=250, seed=1))
    started = time.perf_counter()
    artifact = train(data, version="test-1")
    return data, artifact, time.perf_counter() - started
