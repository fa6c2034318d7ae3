"""The simulator is deterministic: a seed and a configuration fix every byte of every event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from optbus.clock import ReplayClock
from optbus.events import Event
from optbus.market import MarketFacts
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig

Steps = list[list[Event]]


def _ids(steps: Steps) -> set[str]:
    return {event.event_id for step in steps for event in step}


def test_the_same_seed_gives_byte_identical_events(
    simulate: Callable[..., Steps], default_day: Steps
) -> None:
    again = simulate()

    assert msgspec.json.encode(again) == msgspec.json.encode(default_day)


def test_a_different_seed_gives_different_events(
    simulate: Callable[..., Steps], default_day: Steps
) -> None:
    other = simulate(seed=12)

    assert msgspec.json.encode(other) != msgspec.json.encode(default_day)


def test_two_runs_with_different_run_ids_share_no_event_id(
    simulate: Callable[..., Steps], default_day: Steps
) -> None:
    other = simulate(run_id="another-run")

    assert _ids(other).isdisjoint(_ids(default_day))


def test_every_event_id_of_a_run_is_unique(default_day: Steps) -> None:
    count = sum(len(step) for step in default_day)

    assert len(_ids(default_day)) == count


def test_each_call_to_ticks_replays_the_run_from_its_seed(
    facts: MarketFacts, make_config: Callable[..., SimulatorConfig]
) -> None:
    simulator = ChainSimulator(make_config(), facts, ReplayClock(0))

    first = msgspec.json.encode(next(iter(simulator.ticks())))
    second = msgspec.json.encode(next(iter(simulator.ticks())))

    assert first == second


def test_ts_init_comes_from_the_injected_clock(
    facts: MarketFacts, make_config: Callable[..., SimulatorConfig]
) -> None:
    clock = ReplayClock(123_456_789)

    step = next(iter(ChainSimulator(make_config(), facts, clock).ticks()))

    assert {event.ts_init for event in step} == {123_456_789}


def test_the_spot_path_does_not_depend_on_how_many_strikes_are_quoted(
    simulate: Callable[..., Steps], make_config: Callable[..., SimulatorConfig]
) -> None:
    narrow = tuple(
        msgspec.structs.replace(u, strikes_per_side=5) for u in make_config().underlyings
    )

    def spots(steps: Steps) -> list[Any]:
        return [getattr(event, "spot", None) for step in steps for event in step]

    assert spots(simulate(underlyings=narrow)) == spots(simulate())
