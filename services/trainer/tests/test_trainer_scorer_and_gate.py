from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import msgspec
import numpy as np
import pytest

from optbus.features import FEATURE_NAMES
from optbus.scoring import BaselineScorer, ModelError, Scorer, stamp
from optbus_trainer.dataset import TrainingSet
from optbus_trainer.gate import PromotionPolicy, decide, evaluate_scorer, rows_of_day
from optbus_trainer.metrics import Metrics, evaluate
from optbus_trainer.scorer import artifact_scorer
from optbus_trainer.storage import read_artifact, write_artifact
from optbus_trainer.training import ModelArtifact

Planted = tuple[TrainingSet, ModelArtifact, float]


def _features(data: TrainingSet, i: int) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, map(float, data.x[i]), strict=True))


def test_the_scorer_reproduces_lightgbms_predictions_and_carries_version_and_hash(
    planted: Planted,
) -> None:
    data, artifact, _ = planted
    scorer = artifact_scorer(artifact)
    assert isinstance(scorer, Scorer)
    assert scorer.version == "test-1"
    assert scorer.hash == artifact.metadata.model_sha256
    expected = lgb.Booster(model_str=artifact.model_text).predict(data.x[:50])
    scores = [scorer.score(_features(data, i)) for i in range(50)]
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)
    model_stamp = stamp(scorer, _features(data, 0))
    assert (model_stamp.model_version, model_stamp.model_hash) == ("test-1", scorer.hash)


def test_the_scorer_refuses_a_feature_set_other_than_its_own(planted: Planted) -> None:
    data, artifact, _ = planted
    scorer = artifact_scorer(artifact)
    features = _features(data, 0)
    del features["iv"]
    with pytest.raises(ModelError, match=r"missing \['iv'\]"):
        scorer.score(features)
    with pytest.raises(ModelError, match=r"unexpected \['pnl'\]"):
        scorer.score({**_features(data, 0), "pnl": 1.0})


def test_a_model_whose_text_does_not_match_its_hash_is_refused(
    planted: Planted, tmp_path: Path
) -> None:
    _, artifact, _ = planted
    tampered = msgspec.structs.replace(artifact, model_text=artifact.model_text + "\n")
    with pytest.raises(ModelError, match="sha256"):
        artifact_scorer(tampered)
    write_artifact(artifact, tmp_path)
    (tmp_path / "test-1.txt").write_text(artifact.model_text.replace("tree", "tree ", 1))
    with pytest.raises(ModelError, match="does not match"):
        read_artifact(tmp_path, "test-1")


def test_a_written_model_reads_back_identical(planted: Planted, tmp_path: Path) -> None:
    _, artifact, _ = planted
    text_path, _ = write_artifact(artifact, tmp_path)
    assert read_artifact(tmp_path, "test-1") == artifact
    assert text_path.read_bytes() == artifact.model_text.encode()


def _metrics(auc: float | None) -> Metrics:
    return Metrics(rows=100, positives=50, auc=auc, log_loss=0.6, brier=0.2, calibration=())


def test_with_no_active_model_the_candidate_is_promoted() -> None:
    decision = decide(_metrics(0.62), None)
    assert decision.promote
    assert "no active model" in decision.reason


def test_a_candidate_clearly_better_than_the_active_model_is_promoted() -> None:
    decision = decide(_metrics(0.70), _metrics(0.65), PromotionPolicy(min_auc_gain=0.01))
    assert decision.promote
    assert "beats active 0.6500" in decision.reason


def test_a_candidate_not_better_by_the_margin_is_kept_with_the_reason() -> None:
    decision = decide(_metrics(0.655), _metrics(0.65), PromotionPolicy(min_auc_gain=0.01))
    assert not decision.promote
    assert decision.reason == (
        "candidate AUC 0.6550 does not beat active 0.6500 by the margin 0.0100 (needs 0.6600)"
    )
    assert (decision.candidate_auc, decision.active_auc) == (0.655, 0.65)


def test_a_candidate_with_an_undefined_auc_or_below_the_floor_is_not_promoted() -> None:
    assert not decide(_metrics(None), None).promote
    assert not decide(_metrics(0.49), None, PromotionPolicy(min_auc=0.5)).promote


def test_the_gate_compares_candidate_and_active_model_on_the_same_latest_fold_rows(
    planted: Planted,
) -> None:
    data, artifact, _ = planted
    rows = rows_of_day(data, artifact.metadata.latest.validation_day.toordinal())
    baseline = evaluate_scorer(BaselineScorer(), data, rows)
    assert baseline.rows == artifact.metadata.latest.metrics.rows == len(rows)
    decision = decide(artifact.metadata.latest.metrics, baseline)
    assert decision.promote, decision.reason
    # a coin flip never beats the trained model
    itself = evaluate_scorer(artifact_scorer(artifact), data, rows)
    assert itself.rows == len(rows)
    assert not decide(evaluate(data.winner[rows], np.full(len(rows), 0.5)), itself).promote
