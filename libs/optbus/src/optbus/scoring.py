"""Scorers: what turns a feature snapshot into the ML score every signal carries.

A scorer has a ``version`` and a ``hash`` (sha256 of its definition or model file), which go
into every ``ModelStamp``. Until the trainer promotes a model, ``BaselineScorer`` scores: a
transparent logistic rule over three features, documented in docs/strategies.md. A promoted
model scores through ``LightGBMScorer``. It lives in the shared library because the strategy
service scores with it and the trainer trains and gates models against the same protocol, and
one service must not import another's internals.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from optbus.events import ModelStamp
from optbus.features import FEATURE_NAMES

if TYPE_CHECKING:
    import lightgbm as lgb


class ScoringError(ValueError):
    """A scorer was given a feature set it cannot score."""


class ModelError(ScoringError):
    """A model cannot be loaded (not LightGBM, altered text, other features) or cannot score
    what it was given."""


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
        self._hash = model_sha256(self._definition)

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


def model_sha256(text: str) -> str:
    """sha256 (hex) of the UTF-8 bytes of a model's text: the hash every signal carries."""
    return hashlib.sha256(text.encode()).hexdigest()


class LightGBMScorer:
    """Scores a feature snapshot with a LightGBM model given as text.

    ``hash`` is the sha256 of the text; given ``sha256`` (the registered hash), a text that
    does not match is refused. A model trained on features other than ``feature_names`` is
    refused too. Scoring uses one thread, so a score is the same everywhere.
    """

    def __init__(
        self,
        model_text: str,
        *,
        version: str,
        feature_names: Sequence[str] = FEATURE_NAMES,
        sha256: str | None = None,
    ) -> None:
        # Imported here: lightgbm brings pandas and scipy (about 1.5 s), which the baseline
        # scorer, the backtest and most tests never need.
        import lightgbm as lgb

        self._hash = model_sha256(model_text)
        if sha256 is not None and sha256 != self._hash:
            raise ModelError(
                f"model {version}: text has sha256 {self._hash}, not the registered {sha256}"
            )
        try:
            self._booster: lgb.Booster = lgb.Booster(model_str=model_text)
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"model {version} is not a LightGBM model: {exc}") from exc
        self._names = tuple(feature_names)
        if tuple(self._booster.feature_name()) != self._names:
            raise ModelError(
                f"model {version} was trained on features "
                f"{self._booster.feature_name()}, not {list(self._names)}"
            )
        self._version = version

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
