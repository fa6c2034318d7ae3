"""The scorer of a trained model artifact (``optbus.scoring.LightGBMScorer``)."""

from __future__ import annotations

from optbus.scoring import LightGBMScorer
from optbus_trainer.training import ModelArtifact


def artifact_scorer(artifact: ModelArtifact) -> LightGBMScorer:
    """The scorer of a trained model; ``ModelError`` if its text does not match its sha256."""
    meta = artifact.metadata
    return LightGBMScorer(
        artifact.model_text,
        version=meta.version,
        feature_names=meta.feature_names,
        sha256=meta.model_sha256,
    )
