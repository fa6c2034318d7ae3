"""What ``optbus replay`` refuses before it starts anything."""

from datetime import UTC, datetime

import pytest

from optbus_cli.replay.options import LiveBusRefused, ReplayOptions

START = datetime(2026, 12, 2, 3, 45, tzinfo=UTC)
END = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_a_replay_onto_the_live_bus_is_refused() -> None:
    with pytest.raises(LiveBusRefused, match="live bus"):
        ReplayOptions(
            start=START, end=END, run_id="r", speed=1.0,
            target_nats_url="nats://bus:4222", live_nats_url="nats://bus:4222",
        )  # fmt: skip


def test_a_replay_cannot_store_under_the_live_run_id() -> None:
    with pytest.raises(ValueError, match="run id of its own"):
        ReplayOptions(start=START, end=END, run_id="live", speed=1.0)


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="must be after"):
        ReplayOptions(start=END, end=START, run_id="r", speed=1.0)


def test_an_isolated_bus_other_than_the_live_one_is_accepted() -> None:
    options = ReplayOptions(start=START, end=END, run_id="r", speed=1.0,
                            target_nats_url="nats://127.0.0.1:14222")  # fmt: skip

    assert options.target_nats_url == "nats://127.0.0.1:14222"
