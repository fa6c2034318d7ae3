"""How long the feed waits before reconnecting: exponential, capped, jittered."""

from __future__ import annotations

import random

from optbus_brokers.backoff import Backoff

BACKOFF = Backoff(base_seconds=1.0, cap_seconds=30.0)


def test_the_first_wait_is_between_half_and_all_of_the_base() -> None:
    delays = [BACKOFF.delay(0, random.Random(seed)) for seed in range(50)]

    assert (min(delays) >= 0.5, max(delays) <= 1.0) == (True, True)


def test_each_attempt_doubles_the_ceiling() -> None:
    assert BACKOFF.delay(3, random.Random(1)) == 2 * BACKOFF.delay(2, random.Random(1))


def test_the_wait_never_passes_the_cap() -> None:
    delays = [BACKOFF.delay(attempt, random.Random(attempt)) for attempt in range(200)]

    assert max(delays) <= 30.0


def test_once_capped_the_wait_is_at_least_half_the_cap() -> None:
    delays = [BACKOFF.delay(attempt, random.Random(attempt)) for attempt in range(10, 200)]

    assert min(delays) >= 15.0


def test_the_same_randomness_gives_the_same_waits() -> None:
    assert BACKOFF.delay(4, random.Random(9)) == BACKOFF.delay(4, random.Random(9))


def test_different_randomness_spreads_the_waits() -> None:
    assert len({BACKOFF.delay(4, random.Random(seed)) for seed in range(10)}) == 10
