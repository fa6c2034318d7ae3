"""The models on the bus: model files in a JetStream object store, and which one is promoted.

The trainer puts each model's text and metadata in the object store bucket ``optbus_models``;
the promoted model is the one named by the last ``model.promoted`` event of the MODELS stream.
The strategy service reads both at start and on every promotion, so it never needs the
database to know which model scores.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from optbus import subjects
from optbus.codec import Decoder
from optbus.events import ModelPromoted, ModelTrained
from optbus.runtime.migration import BusNotMigrated

_promoted: Decoder[ModelPromoted] = Decoder(ModelPromoted)
_trained: Decoder[ModelTrained] = Decoder(ModelTrained)


class ModelNotStored(LookupError):
    """The object store has no object by that name (or no bucket at all)."""


async def models_bucket(js: JetStreamContext) -> ObjectStore:
    """The models bucket; ``BusNotMigrated`` when missing: only ``optbus bus migrate``
    creates it, so that the trainer's login need not create streams."""
    try:
        return await js.object_store(subjects.MODELS_BUCKET)
    except BucketNotFoundError as exc:
        raise BusNotMigrated([f"no models bucket {subjects.MODELS_BUCKET}"]) from exc


async def put_model_object(js: JetStreamContext, name: str, data: bytes) -> None:
    """Store (or replace) one object of the models bucket."""
    bucket = await models_bucket(js)
    await bucket.put(name, data)


async def get_model_object(js: JetStreamContext, name: str) -> bytes:
    """One object of the models bucket; ``ModelNotStored`` when there is none by that name."""
    try:
        bucket = await js.object_store(subjects.MODELS_BUCKET)
        result = await bucket.get(name)
    except (BucketNotFoundError, ObjectNotFoundError) as exc:
        raise ModelNotStored(f"no object {name!r} in bucket {subjects.MODELS_BUCKET}") from exc
    return bytes(result.data or b"")


async def _last_on(js: JetStreamContext, subject: str) -> bytes | None:
    try:
        message = await js.get_last_msg("MODELS", subject)
    except NotFoundError:
        return None
    return message.data or b""


async def last_promoted(js: JetStreamContext) -> ModelPromoted | None:
    """The last ``model.promoted`` event (the model that scores now), or None if none yet."""
    data = await _last_on(js, subjects.MODEL_PROMOTED)
    return None if data is None else _promoted.decode(data)


async def last_trained(js: JetStreamContext) -> ModelTrained | None:
    """The last ``model.trained`` event (promoted or not), or None if none yet."""
    data = await _last_on(js, subjects.MODEL_TRAINED)
    return None if data is None else _trained.decode(data)
