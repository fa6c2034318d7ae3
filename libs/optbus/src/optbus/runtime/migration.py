"""The bus's layout: created and updated by one explicit step, checked by every service.

Only ``optbus bus migrate`` (its own NATS user, ``migrator``) creates or changes the streams and
buckets (``migrate_bus``). A service may not: a login that could update a stream could cap the
trading log to one message or narrow the control stream's subjects. At start a service only
checks that the streams it uses are as declared (``check_streams``) and refuses to start when
one is not, naming the stream and the setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from enum import Enum

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError

from optbus import subjects

MIGRATE_HINT = "run `optbus bus migrate`"
KILLSWITCH_BUCKET_CONFIG = KeyValueConfig(bucket=subjects.KILLSWITCH_BUCKET, history=64)
"""The kill-switch state, with its history kept for the audit trail."""
MODELS_BUCKET_CONFIG = ObjectStoreConfig(
    bucket=subjects.MODELS_BUCKET,
    description="trained models: LightGBM text and metadata, by version",
    storage=StorageType.FILE,
)
"""The trained models, kept on disk until deleted."""

_STREAM_NAME_IN_USE = 10058
_FIXED_AT_CREATION = frozenset({"name", "storage", "retention"})
"""What JetStream cannot change on an existing stream, and what a replay's bus sets otherwise
(in memory, interest retention): neither ``migrate_bus`` nor ``check_streams`` looks at it."""


class BusNotMigrated(RuntimeError):
    """A stream or bucket a process needs is missing or not as declared."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{'; '.join(self.problems)}: {MIGRATE_HINT}")


async def ensure_streams(
    js: JetStreamContext,
    specs: Sequence[subjects.StreamSpec] = subjects.STREAMS,
    *,
    ephemeral: bool = False,
    replicas: int | None = None,
) -> None:
    """Create every stream of the bus, or bring an existing one to its current definition.

    An existing stream keeps its storage and retention, which JetStream cannot change: a
    migration of a replay's ``ephemeral`` bus leaves it in memory. ``replicas`` (None: the
    server's default for a new stream, an existing stream's own count) sets how many cluster
    members hold each stream.
    """
    for spec in specs:
        wanted = spec.config(ephemeral=ephemeral, replicas=replicas)
        try:
            await js.add_stream(wanted)
        except BadRequestError as exc:
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
            existing = (await js.stream_info(spec.name)).config
            wanted.storage, wanted.retention = existing.storage, existing.retention
            if replicas is None:
                wanted.num_replicas = existing.num_replicas
            await js.update_stream(wanted)


async def ensure_buckets(js: JetStreamContext, *, replicas: int | None = None) -> None:
    """Create the kill-switch and models buckets when missing; an existing one keeps its
    contents (they are the state, and nobody but the migrator may change its stream).

    ``replicas`` (None: one copy when created, what the bucket has otherwise) sets how many
    cluster members hold each bucket, an existing one included: the kill switch must survive
    the loss of any one member, as the streams do."""
    try:
        await js.key_value(subjects.KILLSWITCH_BUCKET)
    except BucketNotFoundError:
        await js.create_key_value(
            dataclasses.replace(KILLSWITCH_BUCKET_CONFIG, replicas=replicas or 1)
        )
    try:
        await js.object_store(subjects.MODELS_BUCKET)
    except BucketNotFoundError:
        await js.create_object_store(
            subjects.MODELS_BUCKET,
            config=dataclasses.replace(MODELS_BUCKET_CONFIG, replicas=replicas or 1),
        )
    if replicas is not None:
        for stream in (f"KV_{subjects.KILLSWITCH_BUCKET}", f"OBJ_{subjects.MODELS_BUCKET}"):
            stored = (await js.stream_info(stream)).config
            if stored.num_replicas != replicas:
                await js.update_stream(dataclasses.replace(stored, num_replicas=replicas))


async def migrate_bus(
    js: JetStreamContext, *, ephemeral: bool = False, replicas: int | None = None
) -> None:
    """Everything the services need on the bus and may not create themselves: every stream of
    ``optbus.subjects.STREAMS`` at its declared configuration, and the buckets. Idempotent.

    The services' durable consumers are not made here: each service creates its own at start
    (its grants name only its own durables), with the delivery settings it runs with.
    """
    await ensure_streams(js, ephemeral=ephemeral, replicas=replicas)
    await ensure_buckets(js, replicas=replicas)


def _shown(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _same(wanted: object, actual: object) -> bool:
    """Whether a stored setting is the declared one; the server leaves out a false flag and
    may keep the subjects in another order."""
    if isinstance(wanted, bool):
        return bool(actual) == wanted
    if isinstance(wanted, list) and isinstance(actual, list | None):
        return sorted(actual or []) == sorted(wanted)
    return bool(actual == wanted)


def stream_drift(declared: StreamConfig, actual: StreamConfig) -> list[str]:
    """Each setting ``declared`` makes that ``actual`` does not have, as ``stream S: setting is
    X, declared Y``; empty when the stream is as declared."""
    return [
        f"stream {declared.name}: {field.name} is {_shown(got)!r}, declared {_shown(wanted)!r}"
        for field in dataclasses.fields(declared)
        if field.name not in _FIXED_AT_CREATION
        and (wanted := getattr(declared, field.name)) is not None
        and not _same(wanted, got := getattr(actual, field.name))
    ]


async def check_streams(js: JetStreamContext, specs: Iterable[subjects.StreamSpec]) -> None:
    """Raise ``BusNotMigrated`` naming every stream of ``specs`` that is missing and every
    setting of one that drifted from its declaration."""
    problems: list[str] = []
    for spec in specs:
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            problems.append(f"stream {spec.name} is missing")
            continue
        problems += stream_drift(spec.config(), info.config)
    if problems:
        raise BusNotMigrated(problems)
