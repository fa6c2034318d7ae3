"""The baseline scorer: transparent, deterministic, identified by its version and hash."""

from __future__ import annotations

import hashlib
import math

import pytest

from optbus.features import FEATURE_NAMES
from optbus.scoring import (
    BASELINE_VERSION,
    BaselineScorer,
    Scorer,
    ScoringError,
    stamp,
)

PINNED_HASH = "555fa82f3a53c6586bc166d65e350be78b8b1518a57edc4b677e30e53a1cd706"


def _features(strength: float = 0.6, spread: float = 0.01) -> dict[str, float]:
    values = dict.fromkeys(FEATURE_NAMES, 0.0)
    values.update(signal_strength=strength, relative_spread=spread)
    return values


def test_the_baseline_says_it_is_the_baseline() -> None:
    assert BaselineScorer().version == BASELINE_VERSION == "baseline-v1"


def test_the_baseline_hash_is_the_sha256_of_its_definition() -> None:
    scorer = BaselineScorer()

    assert scorer.hash == hashlib.sha256(scorer.definition.encode()).hexdigest()


def test_the_baseline_definition_is_pinned_so_a_change_is_deliberate() -> None:
    assert BaselineScorer().hash == PINNED_HASH


def test_the_baseline_is_a_scorer() -> None:
    assert isinstance(BaselineScorer(), Scorer)


def test_two_baselines_score_the_same_features_identically() -> None:
    assert BaselineScorer().score(_features()) == BaselineScorer().score(_features())


def test_the_baseline_score_is_the_documented_logistic() -> None:
    z = -1.0 + 2.0 * 0.6 - 10.0 * 0.01

    assert BaselineScorer().score(_features(0.6, 0.01)) == pytest.approx(1 / (1 + math.exp(-z)))


def test_a_stronger_signal_scores_higher() -> None:
    scorer = BaselineScorer()

    assert scorer.score(_features(strength=0.9)) > scorer.score(_features(strength=0.3))


def test_a_wider_spread_scores_lower() -> None:
    scorer = BaselineScorer()

    assert scorer.score(_features(spread=0.10)) < scorer.score(_features(spread=0.01))


def test_other_weights_make_another_hash() -> None:
    other = BaselineScorer(weights={"signal_strength": 3.0})

    assert other.hash != BaselineScorer().hash


def test_the_baseline_refuses_features_that_lack_what_it_weighs() -> None:
    features = _features()
    features.pop("relative_spread")

    with pytest.raises(ScoringError, match="relative_spread"):
        BaselineScorer().score(features)


def test_weights_on_unknown_features_are_refused() -> None:
    with pytest.raises(ScoringError, match="pnl"):
        BaselineScorer(weights={"pnl": 1.0})


def test_a_stamp_carries_score_version_hash_and_the_features_scored() -> None:
    scorer, features = BaselineScorer(), _features()

    result = stamp(scorer, features)

    assert (result.ml_score, result.model_version, result.model_hash, result.features) == (
        scorer.score(features), scorer.version, scorer.hash, features,
    )  # fmt: skip
