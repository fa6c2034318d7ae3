"""What a service's start-up check calls drift: a setting of the declaration the stream lacks."""

from __future__ import annotations

from dataclasses import replace

from nats.js.api import RetentionPolicy, StorageType

from optbus import subjects
from optbus.runtime.migration import BusNotMigrated, stream_drift

TRADING = next(spec for spec in subjects.STREAMS if spec.name == "TRADING")


def test_a_stream_as_declared_has_no_drift() -> None:
    assert stream_drift(TRADING.config(), TRADING.config()) == []


def test_a_capped_stream_drifts_by_its_message_limit() -> None:
    capped = replace(TRADING.config(), max_msgs=1)

    assert stream_drift(TRADING.config(), capped) == ["stream TRADING: max_msgs is 1, declared -1"]


def test_a_stream_with_narrowed_subjects_drifts_by_its_subjects() -> None:
    narrowed = replace(TRADING.config(), subjects=["exec.>"])

    assert [line.split(":")[1] for line in stream_drift(TRADING.config(), narrowed)] == [
        " subjects is ['exec.>'], declared ['strategy.>', 'risk.>', 'exec.>']"
    ]


def test_a_sealed_stream_drifts() -> None:
    sealed = replace(TRADING.config(), sealed=True)

    assert stream_drift(TRADING.config(), sealed) == [
        "stream TRADING: sealed is True, declared False"
    ]


def test_the_same_subjects_in_another_order_are_not_drift() -> None:
    reordered = replace(TRADING.config(), subjects=["exec.>", "risk.>", "strategy.>"])

    assert stream_drift(TRADING.config(), reordered) == []


def test_a_flag_the_server_leaves_out_is_not_drift() -> None:
    as_stored = replace(TRADING.config(), no_ack=None, allow_rollup_hdrs=None)

    assert stream_drift(TRADING.config(), as_stored) == []


def test_a_replays_stream_in_memory_is_not_drift() -> None:
    ephemeral = TRADING.config(ephemeral=True)

    assert (ephemeral.storage, ephemeral.retention) == (
        StorageType.MEMORY,
        RetentionPolicy.INTEREST,
    )
    assert stream_drift(TRADING.config(), ephemeral) == []


def test_the_error_tells_the_operator_what_to_run() -> None:
    error = BusNotMigrated(["stream MD is missing"])

    assert str(error) == "stream MD is missing: run `optbus bus migrate`"


def test_a_stream_held_by_three_cluster_members_is_not_drift() -> None:
    assert stream_drift(TRADING.config(), TRADING.config(replicas=3)) == []


def test_the_migration_asks_for_the_replicas_it_is_given() -> None:
    assert TRADING.config(replicas=3).num_replicas == 3
