"""``LightGBMScorer``: a trained model as the strategy service's ``Scorer`` (version, hash,
score). It refuses a feature set other than the one its model was trained on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import lightgbm as lgb
import numpy as np

from optbus.features import FEATURE_NAMES
from optbus_trainer.training import ModelArtifact, sha256_text


@runtime_checkable
class Scorer(Protocol):
    """What the strategy service scores with (``optbus_strategy.scoring.Scorer``, by structure)."""

    @property
    def version(self) -> str:
        """The model's version."""
        ...

    @property
    def hash(self) -> str:
        """sha256 (hex) of the model's definition or text."""
        ...

    def score(self, features: Mapping[str, float]) -> float:
        """The score of one feature snapshot."""
        ...


class ModelError(ValueError):
    """A model cannot be loaded or cannot score what it was given."""


class LightGBMScorer:
    """Scores a feature snapshot with a LightGBM model given as text.

    ``hash`` is the sha256 of the text (as in the model's metadata); ``version`` is the one the
    trainer was given. Scoring uses one thread, so a score is the same everywhere.
    """

    def __init__(
        self, model_text: str, *, version: str, feature_names: Sequence[str] = FEATURE_NAMES
    ) -> None:
        try:
            self._booster = lgb.Booster(model_str=model_text)
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"model {version} is not a LightGBM model: {exc}") from exc
        self._names = tuple(feature_names)
        if tuple(self._booster.feature_name()) != self._names:
            raise ModelError(
                f"model {version} was trained on features "
                f"{self._booster.feature_name()}, not {list(self._names)}"
            )
        self._version = version
        self._hash = sha256_text(model_text)

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> LightGBMScorer:
        """The scorer of a trained model; refuses text whose sha256 is not the recorded one."""
        meta = artifact.metadata
        if sha256_text(artifact.model_text) != meta.model_sha256:
            raise ModelError(f"model {meta.version}: text does not match its sha256")
        return cls(artifact.model_text, version=meta.version, feature_names=meta.feature_names)

    @property
    def version(self) -> str:
        """The version the model was registered under."""
        return self._version

    @property
    def hash(self) -> str:
        """sha256 (hex) of the model text."""
        return self._hash

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The model's input columns, in order."""
        return self._names

    def score(self, features: Mapping[str, float]) -> float:
        """The model's probability that a trade with these entry features is a winner."""
        if len(features) != len(self._names) or any(n not in features for n in self._names):
            missing = [n for n in self._names if n not in features]
            extra = sorted(set(features) - set(self._names))
            raise ModelError(
                f"model {self._version} cannot score this feature set: "
                f"missing {missing}, unexpected {extra}"
            )
        row = np.asarray([[float(features[n]) for n in self._names]], dtype=np.float64)
        return float(self._booster.predict(row, num_threads=1)[0])
