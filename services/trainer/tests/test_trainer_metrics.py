from __future__ import annotations

import numpy as np
import pytest

from optbus_trainer.metrics import auc, brier, calibration, evaluate, log_loss


def test_auc_is_the_share_of_positive_negative_pairs_ranked_right_ties_counting_half() -> None:
    y = [0, 0, 1, 1, 0, 1]
    p = [0.1, 0.4, 0.35, 0.8, 0.5, 0.5]
    pairs = [
        (a, b)
        for a, ya in zip(p, y, strict=True)
        if ya
        for b, yb in zip(p, y, strict=True)
        if not yb
    ]
    expected = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)
    assert auc(y, p) == pytest.approx(expected)


def test_auc_is_undefined_with_one_label_only() -> None:
    assert auc([1, 1, 1], [0.2, 0.5, 0.9]) is None


def test_log_loss_and_brier_match_their_definitions() -> None:
    y = np.array([1, 0, 1])
    p = np.array([0.9, 0.2, 0.6])
    assert log_loss(y, p) == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.6])))
    assert brier(y, p) == pytest.approx(np.mean([0.01, 0.04, 0.16]))


def test_calibration_reports_mean_predicted_and_observed_rate_per_decile() -> None:
    table = calibration([0, 1, 1, 0], [0.05, 0.07, 0.95, 0.91])
    assert [(b.lower, b.count) for b in table] == [(0.0, 2), (0.9, 2)]
    assert table[0].mean_predicted == pytest.approx(0.06)
    assert table[0].observed == pytest.approx(0.5)


def test_evaluate_gathers_every_metric() -> None:
    metrics = evaluate([0, 1], [0.3, 0.7])
    assert (metrics.rows, metrics.positives, metrics.auc) == (2, 1, 1.0)
