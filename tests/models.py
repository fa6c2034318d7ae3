"""A small trained model for the registry and hot-reload tests: six trading days of synthetic
closed trades where ``signal_strength`` decides the winner, trained by the real trainer."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from optbus.features import FEATURE_NAMES
from optbus_trainer.dataset import DataRequirements, Example, from_examples
from optbus_trainer.training import ModelArtifact, TrainerConfig, train

SMALL = TrainerConfig(requirements=DataRequirements(min_rows=100, min_days=5), folds=2,
                      num_boost_round=40)  # fmt: skip


def small_model(version: str, *, seed: int = 3, days: int = 6, per_day: int = 60) -> ModelArtifact:
    """A model trained on ``days * per_day`` synthetic trades (a different ``seed`` gives a
    different model, hence another hash)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(days * per_day, len(FEATURE_NAMES)))
    strength = x[:, FEATURE_NAMES.index("signal_strength")]
    winner = rng.random(len(x)) < 1 / (1 + np.exp(-3.0 * strength))
    examples = [
        Example(features=dict(zip(FEATURE_NAMES, map(float, row), strict=True)),
                winner=bool(won), pnl_pct=5.0 if won else -5.0,
                day=date(2026, 11, 2) + timedelta(days=i // per_day))
        for i, (row, won) in enumerate(zip(x, winner, strict=True))
    ]  # fmt: skip
    return train(from_examples(examples), version=version, config=SMALL)
