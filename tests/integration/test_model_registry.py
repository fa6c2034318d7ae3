"""The model registry against the real NATS object store and PostgreSQL: what is registered
reads back byte for byte, with its status, its events and the model it retired."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from nats.js import JetStreamContext

from optbus.clock import ReplayClock
from optbus.codec import any_event_decoder
from optbus.events import Event, ModelPromoted, ModelTrained
from optbus.runtime.history import read_history
from optbus.runtime.model_store import get_model_object, last_promoted
from optbus.scoring import model_sha256
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.servers import LocalNats
from optbus_trainer.gate import PromotionDecision
from optbus_trainer.registry import ModelRegistry, read_metadata
from optbus_trainer.registry_sql import RegisteredModel, registered_models

from ..models import small_model

pytestmark = pytest.mark.integration

NOW_NS = 1_796_000_000_000_000_000
_decoder = any_event_decoder()


@pytest.fixture(scope="module")
def fresh_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A bus of this module's own, so the last promotion is the one these tests made."""
    server = LocalNats(tmp_path_factory.mktemp("nats-registry")).start()
    yield server.url
    server.stop()


@pytest.fixture
async def js(fresh_nats: str) -> AsyncIterator[JetStreamContext]:
    await migrate_bus(fresh_nats)
    nc = await nats.connect(fresh_nats)
    context = nc.jetstream()
    yield context
    await nc.close()


def _registry(js: JetStreamContext, database_url: str) -> ModelRegistry:
    return ModelRegistry(lambda: js, database_url, ReplayClock(NOW_NS), "test")


def _decision(promote: bool, reason: str) -> PromotionDecision:
    return PromotionDecision(promote=promote, reason=reason, candidate_auc=0.7, active_auc=0.6)


def _row(database_url: str, version: str) -> RegisteredModel:
    (row,) = [m for m in registered_models(database_url) if m.model_version == version]
    return row


async def _model_events(js: JetStreamContext, version: str) -> list[Event]:
    events = await read_history(js, "MODELS", ("model.>",))
    return [
        e for e in events
        if isinstance(e, ModelTrained | ModelPromoted) and e.model.model_version == version
    ]  # fmt: skip


async def test_a_registered_model_reads_back_byte_for_byte_from_the_object_store(
    js: JetStreamContext, database_url: str
) -> None:
    artifact = small_model(f"it-{uuid.uuid4().hex[:8]}")
    registry = _registry(js, database_url)

    registration = await registry.register(artifact, _decision(True, "first"), None)

    meta = artifact.metadata
    text = await get_model_object(js, registration.record.object_name)
    assert text == artifact.model_text.encode()
    assert model_sha256(text.decode()) == meta.model_sha256 == registration.record.model_hash
    assert await read_metadata(js, meta.version) == meta


async def test_a_promoted_model_is_active_in_the_table_and_on_the_bus(
    js: JetStreamContext, database_url: str
) -> None:
    artifact = small_model(f"it-{uuid.uuid4().hex[:8]}")

    await _registry(js, database_url).register(artifact, _decision(True, "beats"), None)

    version = artifact.metadata.version
    row = _row(database_url, version)
    assert (row.status, row.status_reason, row.model_hash) == (
        "active", "beats", artifact.metadata.model_sha256,
    )  # fmt: skip
    assert row.rows == artifact.metadata.rows
    assert row.metrics["auc"] == artifact.metadata.latest.metrics.auc
    promoted = await last_promoted(js)
    assert promoted is not None
    assert promoted.model.model_version == version
    assert [type(e) for e in await _model_events(js, version)] == [ModelTrained, ModelPromoted]
    active = await _registry(js, database_url).active()
    assert active is not None
    assert active.scorer.hash == artifact.metadata.model_sha256


async def test_a_model_not_promoted_is_kept_with_the_reason_and_announced_as_trained_only(
    js: JetStreamContext, database_url: str
) -> None:
    before = await last_promoted(js)
    artifact = small_model(f"it-{uuid.uuid4().hex[:8]}", seed=4)
    reason = "candidate AUC 0.6000 does not beat active 0.6500 by the margin 0.0100"

    await _registry(js, database_url).register(artifact, _decision(False, reason), None)

    version = artifact.metadata.version
    assert (_row(database_url, version).status, _row(database_url, version).status_reason) == (
        "kept", reason,
    )  # fmt: skip
    events = await _model_events(js, version)
    assert [type(e) for e in events] == [ModelTrained]
    assert isinstance(events[0], ModelTrained)
    assert events[0].reason == reason
    assert await last_promoted(js) == before


async def test_promoting_a_model_retires_the_one_it_replaces(
    js: JetStreamContext, database_url: str
) -> None:
    registry = _registry(js, database_url)
    first = small_model(f"it-{uuid.uuid4().hex[:8]}", seed=5)
    second = small_model(f"it-{uuid.uuid4().hex[:8]}", seed=6)
    await registry.register(first, _decision(True, "first"), None)

    await registry.register(second, _decision(True, "better"), first.metadata.version)

    retired = _row(database_url, first.metadata.version)
    assert (retired.status, retired.status_reason) == (
        "retired", f"replaced by {second.metadata.version}",
    )  # fmt: skip
    assert _row(database_url, second.metadata.version).status == "active"
    promoted = await last_promoted(js)
    assert promoted is not None
    assert promoted.previous_version == first.metadata.version


async def test_registering_the_same_model_twice_changes_nothing(
    js: JetStreamContext, database_url: str
) -> None:
    artifact = small_model(f"it-{uuid.uuid4().hex[:8]}", seed=7)
    registry = _registry(js, database_url)
    await registry.register(artifact, _decision(False, "kept"), None)

    await registry.register(artifact, _decision(False, "kept"), None)

    version = artifact.metadata.version
    assert [m.model_version for m in registered_models(database_url)].count(version) == 1
    assert len(await _model_events(js, version)) == 1
