"""The bus's layout: created and updated by one explicit step, checked by every service.

Only ``optbus bus migrate`` (its own NATS user, ``migrator``) creates or changes the streams,
the buckets and the services' durable consumers (``migrate_bus``). A service may not: a login
that could update a stream could cap the trading log to one message or narrow the control
stream's subjects, and one that could update a durable could make it give up on messages after
one delivery. At start a service only checks that the streams it uses and the durables it runs
are as declared (``check_streams``, ``check_consumers``) and refuses to start when one is not,
naming the stream or the durable and the setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

import structlog
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError

from optbus import subjects
from optbus.runtime.consumer import PullConsumerSpec
from optbus.runtime.topology import ServiceTopology

_log = structlog.get_logger()

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


def declared_consumers(
    topologies: Iterable[ServiceTopology[Any]],
) -> tuple[PullConsumerSpec, ...]:
    """Every durable consumer ``topologies`` declare, in their order, as declared
    (``PullConsumerSpec.declared``: the one spec the migration creates and the service checks)."""
    return tuple(
        PullConsumerSpec.declared(topology, consumer)
        for topology in topologies
        for consumer in topology.consumers
    )


async def ensure_consumer(js: JetStreamContext, spec: PullConsumerSpec) -> dict[str, str]:
    """Create the durable of ``spec``, or bring an existing one to its declaration; what
    changed (``{}`` when it already was as declared).

    An existing durable keeps where it started (JetStream cannot change it, and it no longer
    matters once it exists). A new one starts where declared: a ``new`` durable at the end of
    its stream now, at the migration, not when its service first starts."""
    wanted = spec.config()
    try:
        existing = (await js.consumer_info(spec.stream, spec.durable)).config
    except NotFoundError:
        await js.add_consumer(spec.stream, wanted)
        return {"created": f"deliver policy {wanted.deliver_policy}"}
    changed = spec.drift(existing)
    if changed:
        wanted.deliver_policy = existing.deliver_policy
        # A durable's create request updates the one that exists.
        await js.add_consumer(spec.stream, wanted)
        _log.warning("consumer updated to its declared config", consumer=spec.durable,
                     stream=spec.stream, changed=changed)  # fmt: skip
    return changed


async def migrate_bus(
    js: JetStreamContext,
    consumers: Sequence[PullConsumerSpec] = (),
    *,
    ephemeral: bool = False,
    replicas: int | None = None,
) -> None:
    """Everything the services need on the bus and may not create themselves: every stream of
    ``optbus.subjects.STREAMS`` at its declared configuration, the buckets, and each durable of
    ``consumers`` (``declared_consumers``) as declared. Idempotent.

    A durable the services no longer declare is left alone (it may hold the only record of
    how far a consumer got); deleting one is an operator's decision.
    """
    await ensure_streams(js, ephemeral=ephemeral, replicas=replicas)
    await ensure_buckets(js, replicas=replicas)
    for spec in consumers:
        await ensure_consumer(js, spec)


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


async def consumer_problems(js: JetStreamContext, specs: Iterable[PullConsumerSpec]) -> list[str]:
    """Each durable of ``specs`` that is missing and each setting of one that drifted from its
    declaration; empty when all are as declared."""
    problems: list[str] = []
    for spec in specs:
        try:
            info = await js.consumer_info(spec.stream, spec.durable)
        except NotFoundError:
            problems.append(f"consumer {spec.durable} on stream {spec.stream} is missing")
            continue
        problems += spec.drift_problems(info.config)
    return problems


async def check_consumers(js: JetStreamContext, specs: Iterable[PullConsumerSpec]) -> None:
    """Raise ``BusNotMigrated`` naming every durable of ``specs`` that is missing and every
    setting of one that drifted from its declaration: a service runs the durables
    ``optbus bus migrate`` made and may not make or change them itself."""
    problems = await consumer_problems(js, specs)
    if problems:
        raise BusNotMigrated(problems)
