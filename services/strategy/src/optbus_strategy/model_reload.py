"""Hot reload of the scorer: the promoted model, read from the bus, swapped in without a restart.

At start the strategy service loads the model named by the last ``model.promoted`` event; then
each new ``model.promoted`` swaps the scorer within seconds, so every later signal carries the
new model's version and hash. A model whose text does not match its registered sha256, or
whose features are not ``FEATURE_NAMES``, is refused with a log line and the scorer in force
is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge

from optbus.codec import Decoder, UndecodableMessage
from optbus.events import ModelPromoted
from optbus.features import FEATURE_NAMES
from optbus.runtime.bus import DeadLetterOffice
from optbus.runtime.model_store import ModelNotStored, get_model_object, last_promoted
from optbus.scoring import LightGBMScorer, ModelError, Scorer
from optbus_strategy.engine import StrategyEngine

_log = structlog.get_logger()
_decoder: Decoder[ModelPromoted] = Decoder(ModelPromoted)

SCORER_IN_FORCE = Gauge(
    "optbus_strategy_scorer_info",
    "The scorer every signal is stamped with (1)",
    ["version", "hash"],
)
MODELS_REFUSED = Counter(
    "optbus_strategy_models_refused", "Promoted models refused (bad hash, other features)"
)


class ModelReloader:
    """Loads promoted models into the engine; a batch handler for the ``model.promoted``
    consumer. Promotions older than the one loaded (redelivered after a restart) are skipped."""

    def __init__(self, js: Callable[[], JetStreamContext], engine: StrategyEngine) -> None:
        self._js = js
        self._engine = engine
        self._loaded_ts = -1
        self._show(engine.scorer)

    async def load_current(self) -> None:
        """Load the model of the last promotion, if any (the baseline scores until then)."""
        promoted = await last_promoted(self._js())
        if promoted is None:
            _log.info(
                "no model promoted yet: the baseline scores", scorer=self._engine.scorer.version
            )
            return
        await self.load(promoted)

    async def load(self, promoted: ModelPromoted) -> bool:
        """Swap in the promoted model; False (logged, old scorer kept) if it is refused."""
        record = promoted.model
        current = self._engine.scorer
        if promoted.ts_event < self._loaded_ts:
            return False
        if record.model_hash == current.hash:
            self._loaded_ts = promoted.ts_event
            return True
        log = _log.bind(version=record.model_version, hash=record.model_hash)
        if tuple(record.feature_names) != FEATURE_NAMES:
            log.error(
                "MODEL REFUSED: its features are not this service's; the scorer in force is kept",
                kept=current.version, model_features=record.feature_names,
                service_features=list(FEATURE_NAMES),
            )  # fmt: skip
            MODELS_REFUSED.inc()
            return False
        try:
            text = (await get_model_object(self._js(), record.object_name)).decode()
            scorer = await asyncio.to_thread(
                LightGBMScorer, text, version=record.model_version, sha256=record.model_hash
            )
        except (ModelNotStored, ModelError, UnicodeDecodeError) as exc:
            log.error("MODEL REFUSED: the scorer in force is kept", kept=current.version,
                      reason=str(exc))  # fmt: skip
            MODELS_REFUSED.inc()
            return False
        self._engine.set_scorer(scorer)
        self._show(scorer)
        self._loaded_ts = promoted.ts_event
        log.info("model loaded: signals now carry its version and hash", previous=current.version)
        return True

    @staticmethod
    def _show(scorer: Scorer) -> None:
        SCORER_IN_FORCE.clear()
        SCORER_IN_FORCE.labels(scorer.version, scorer.hash).set(1)

    async def on_promotions(self, batch: Sequence[Msg], dead_letters: DeadLetterOffice) -> None:
        """Load each promotion in order; an undecodable message is dead-lettered."""
        for msg in batch:
            try:
                promoted = _decoder.decode(msg.data)
            except UndecodableMessage as exc:
                await dead_letters.park(msg, exc.reason)
                continue
            await self.load(promoted)
            await msg.ack()
