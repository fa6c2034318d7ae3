from types import SimpleNamespace

import pytest

from optbus.clock import (
    ClockWentBackwards,
    EventClock,
    LiveClock,
    ReplayClock,
    on_clock,
    seeded_rng,
)
from optbus.ids import derived_event_id


def test_a_replay_clock_shows_the_time_it_was_advanced_to() -> None:
    clock = ReplayClock()

    clock.advance_to(1_000)

    assert clock.now_ns() == 1_000


def test_a_replay_clock_refuses_to_go_back_in_time() -> None:
    clock = ReplayClock(start_ns=2_000)

    with pytest.raises(ClockWentBackwards):
        clock.advance_to(1_999)


def test_the_same_seed_gives_the_same_random_numbers() -> None:
    assert seeded_rng(42).normal(size=5).tolist() == seeded_rng(42).normal(size=5).tolist()


def test_different_seeds_give_different_random_numbers() -> None:
    assert seeded_rng(1).normal(size=5).tolist() != seeded_rng(2).normal(size=5).tolist()


def test_a_derived_event_id_is_fixed_by_its_parts() -> None:
    assert derived_event_id("run-1", 7) == derived_event_id("run-1", 7)


def test_derived_event_ids_differ_when_their_parts_differ() -> None:
    assert derived_event_id("run-1", 7) != derived_event_id("run-2", 7)


def test_a_service_on_market_time_reads_the_time_of_the_event_it_handles() -> None:
    clock = EventClock()
    seen: list[int] = []
    handle = on_clock(lambda event: seen.append(clock.now_ns()), clock)

    handle(SimpleNamespace(ts_event=1_700_000_000_000_000_000))

    assert seen == [1_700_000_000_000_000_000]


def test_an_input_without_an_event_time_leaves_the_market_clock_alone() -> None:
    clock = EventClock()
    handle = on_clock(lambda event: clock.now_ns(), clock)
    handle(SimpleNamespace(ts_event=5))

    assert handle(SimpleNamespace(action="engage")) == 5


def test_a_live_service_handles_events_unchanged_on_the_wall_clock() -> None:
    clock = LiveClock()

    def handle(event: object) -> int:
        return 1

    assert on_clock(handle, clock) is handle
