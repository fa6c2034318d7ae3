"""Scorers: what turns a feature snapshot into the ML score every signal carries.

A scorer has a ``version`` and a ``hash`` (sha256 of its definition or model file), which go
into every ``ModelStamp``. Until the trainer registers a model, ``BaselineScorer`` scores: a
transparent logistic rule over three features, documented in docs/strategies.md.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from optbus.events import ModelStamp
from optbus.features import FEATURE_NAMES


class ScoringError(ValueError):
    """A scorer was given a feature set it cannot score."""


@runtime_checkable
class Scorer(Protocol):
    """Scores a feature snapshot from 0 (skip) to 1 (take); identified by version and hash."""

    @property
    def version(self) -> str:
        """The model's version, as recorded in every signal it scores."""
        ...

    @property
    def hash(self) -> str:
        """The sha256 (hex) of the model's definition or file."""
        ...

    def score(self, features: Mapping[str, float]) -> float:
        """The score of one feature snapshot (keys and order as ``FEATURE_NAMES``)."""
        ...


BASELINE_VERSION = "baseline-v1"

BASELINE_INTERCEPT = -1.0
BASELINE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"signal_strength": 2.0, "relative_spread": -10.0}
)
"""score = 1 / (1 + exp(-(intercept + sum of weight * feature))): the strategy's own strength
lifts the score, a wide bid-ask spread (costly to trade) lowers it."""


class BaselineScorer:
    """The scorer in force until a trained model is promoted: a logistic of two features.

    Its hash is the sha256 of its canonical JSON definition (version, intercept, weights), so
    that any change to the rule changes the hash that every signal carries.
    """

    def __init__(
        self,
        intercept: float = BASELINE_INTERCEPT,
        weights: Mapping[str, float] = BASELINE_WEIGHTS,
        version: str = BASELINE_VERSION,
    ) -> None:
        unknown = sorted(set(weights) - set(FEATURE_NAMES))
        if unknown:
            raise ScoringError(f"baseline weights name unknown features: {unknown}")
        self._intercept = float(intercept)
        self._weights = dict(weights)
        self._version = version
        self._definition = json.dumps(
            {"version": version, "kind": "logistic", "intercept": self._intercept,
             "weights": self._weights},
            sort_keys=True, separators=(",", ":"),
        )  # fmt: skip
        self._hash = hashlib.sha256(self._definition.encode()).hexdigest()

    @property
    def version(self) -> str:
        """``baseline-v1`` unless constructed otherwise."""
        return self._version

    @property
    def hash(self) -> str:
        """sha256 (hex) of ``definition``."""
        return self._hash

    @property
    def definition(self) -> str:
        """The canonical JSON of the rule (sorted keys, no spaces): what ``hash`` hashes."""
        return self._definition

    def score(self, features: Mapping[str, float]) -> float:
        """The logistic of the intercept plus the weighted features, in (0, 1)."""
        missing = [name for name in self._weights if name not in features]
        if missing:
            raise ScoringError(f"features missing for {self._version}: {missing}")
        z = self._intercept + sum(w * features[name] for name, w in self._weights.items())
        return _logistic(z)


def stamp(scorer: Scorer, features: Mapping[str, float]) -> ModelStamp:
    """Score ``features`` and record who scored them and what they were."""
    return ModelStamp(
        ml_score=float(scorer.score(features)),
        model_version=scorer.version,
        model_hash=scorer.hash,
        features=dict(features),
    )


def _logistic(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
