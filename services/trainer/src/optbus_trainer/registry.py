"""The model registry: every trained model in the object store and the ``models`` table, with
its status, announced by ``model.trained`` (always) and ``model.promoted`` (on promotion).

Which model is active is read from the bus (the last ``model.promoted``), as the strategy
service reads it; the ``models`` table is the queryable record of every model and its status.
Registering the same model twice changes nothing: objects are replaced by identical bytes,
rows are inserted only once and the events carry ids derived from the model's hash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import structlog
from nats.js import JetStreamContext

from optbus.clock import Clock
from optbus.events import Event, ModelPromoted, ModelRecord, ModelTrained
from optbus.ids import derived_event_id
from optbus.routing import subject_of
from optbus.runtime.bus import EventPublisher
from optbus.runtime.model_store import get_model_object, last_promoted, put_model_object
from optbus.scoring import LightGBMScorer
from optbus_trainer.gate import PromotionDecision
from optbus_trainer.registry_sql import record_registration
from optbus_trainer.training import ModelArtifact, ModelMetadata

MODEL_KIND = "lightgbm-binary"
"""What the registered models are: LightGBM binary classifiers (winner or not)."""

_log = structlog.get_logger()


def text_object_name(version: str) -> str:
    """The object holding a model's LightGBM text."""
    return f"{version}.txt"


def metadata_object_name(version: str) -> str:
    """The object holding a model's metadata (``ModelMetadata`` as JSON)."""
    return f"{version}.json"


def model_record(meta: ModelMetadata) -> ModelRecord:
    """The model as the events carry it; ``metrics`` are the latest fold's."""
    latest = meta.latest.metrics
    return ModelRecord(
        model_version=meta.version,
        model_hash=meta.model_sha256,
        kind=MODEL_KIND,
        object_name=text_object_name(meta.version),
        feature_names=list(meta.feature_names),
        train_first_day=meta.train_first_day,
        train_last_day=meta.train_last_day,
        rows=meta.rows,
        metrics={"auc": latest.auc, "log_loss": latest.log_loss, "brier": latest.brier},
    )


@dataclass(frozen=True)
class Registration:
    """A registered model, the gate's verdict, and the model it replaced if promoted."""

    record: ModelRecord
    decision: PromotionDecision
    previous_version: str | None

    @property
    def status(self) -> str:
        """``active`` when promoted, else ``kept`` (with the decision's reason)."""
        return "active" if self.decision.promote else "kept"


def registration_events(registration: Registration, now_ns: int) -> list[Event]:
    """``model.trained`` and, on promotion, ``model.promoted`` (pure; ids fixed by the model)."""
    record, decision = registration.record, registration.decision
    identity = (record.model_version, record.model_hash)
    events: list[Event] = [
        ModelTrained(
            event_id=derived_event_id("model.trained", *identity),
            ts_event=now_ns, ts_init=now_ns,
            model=record, promoted=decision.promote, reason=decision.reason,
        )
    ]  # fmt: skip
    if decision.promote:
        events.append(
            ModelPromoted(
                event_id=derived_event_id("model.promoted", *identity),
                ts_event=now_ns, ts_init=now_ns, model=record,
                previous_version=registration.previous_version, reason=decision.reason,
            )
        )  # fmt: skip
    return events


@dataclass(frozen=True)
class ActiveModel:
    """The promoted model as the bus names it, and its scorer (text checked against its hash)."""

    promoted: ModelPromoted
    scorer: LightGBMScorer


async def load_active(js: JetStreamContext) -> ActiveModel | None:
    """The model the last ``model.promoted`` names, loaded from the object store; None if no
    model was ever promoted. ``ModelError`` if its text does not match its hash."""
    promoted = await last_promoted(js)
    if promoted is None:
        return None
    record = promoted.model
    text = (await get_model_object(js, record.object_name)).decode()
    scorer = await asyncio.to_thread(
        LightGBMScorer, text, version=record.model_version,
        feature_names=record.feature_names, sha256=record.model_hash,
    )  # fmt: skip
    return ActiveModel(promoted=promoted, scorer=scorer)


async def read_metadata(js: JetStreamContext, version: str) -> ModelMetadata:
    """A registered model's metadata from the object store."""
    data = await get_model_object(js, metadata_object_name(version))
    return msgspec.json.decode(data, type=ModelMetadata)


class ModelRegistry:
    """Registers trained models: files in the object store, rows in the database, events."""

    def __init__(
        self, js: Callable[[], JetStreamContext], database_url: str, clock: Clock, service: str
    ) -> None:
        self._js = js
        self._database_url = database_url
        self._clock = clock
        self._publisher = EventPublisher(js, service)

    async def active(self) -> ActiveModel | None:
        """The active model (see ``load_active``)."""
        return await load_active(self._js())

    async def promoted(self) -> ModelPromoted | None:
        """The last promotion, without loading its model."""
        return await last_promoted(self._js())

    async def register(
        self, artifact: ModelArtifact, decision: PromotionDecision, previous_version: str | None
    ) -> Registration:
        """Store the model's text and metadata, record it and its status, then announce it.

        The files go first and the events last, so an event never names a model that cannot
        be fetched; ``previous_version`` (the active model, if any) is retired on promotion.
        """
        meta = artifact.metadata
        js = self._js()
        await put_model_object(js, text_object_name(meta.version), artifact.model_text.encode())
        await put_model_object(js, metadata_object_name(meta.version), msgspec.json.encode(meta))
        registration = Registration(model_record(meta), decision, previous_version)
        now_ns = self._clock.now_ns()
        await asyncio.to_thread(
            record_registration, self._database_url, record=registration.record, metadata=meta,
            status=registration.status, reason=decision.reason,
            previous_version=previous_version, now_ns=now_ns,
        )  # fmt: skip
        for event in registration_events(registration, now_ns):
            await self._publisher.publish(subject_of(event), event)
        _log.info(
            "model registered", version=meta.version, hash=meta.model_sha256,
            status=registration.status, reason=decision.reason,
        )  # fmt: skip
        return registration
