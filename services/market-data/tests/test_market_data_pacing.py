"""Pacing: how long the service waits between steps at a given speed."""

from __future__ import annotations

import pytest

from optbus_market_data.pacing import MAX_SPEED, parse_speed, wait_seconds

SECOND_NS = 1_000_000_000
OPEN_NS = 1_780_285_500 * SECOND_NS


def test_real_time_waits_the_market_time_between_steps() -> None:
    assert wait_seconds(1.0, OPEN_NS, OPEN_NS + 2 * SECOND_NS) == pytest.approx(2.0)


def test_ten_times_real_time_waits_a_tenth() -> None:
    assert wait_seconds(10.0, OPEN_NS, OPEN_NS + SECOND_NS) == pytest.approx(0.1)


def test_maximum_speed_never_waits() -> None:
    assert wait_seconds(MAX_SPEED, OPEN_NS, OPEN_NS + SECOND_NS) == 0.0


def test_the_first_step_is_published_at_once() -> None:
    assert wait_seconds(1.0, None, OPEN_NS) == 0.0


def test_the_closed_market_overnight_is_not_waited_for() -> None:
    next_morning = OPEN_NS + (17 * 3600 + 45 * 60) * SECOND_NS

    assert wait_seconds(1.0, OPEN_NS, next_morning) == 0.0


def test_a_step_at_the_same_market_time_is_not_waited_for() -> None:
    assert wait_seconds(1.0, OPEN_NS, OPEN_NS) == 0.0


@pytest.mark.parametrize(
    ("text", "speed"),
    [("1", 1.0), ("realtime", 1.0), ("10x", 10.0), ("2.5", 2.5), (" MAX ", MAX_SPEED)],
)
def test_speeds_are_read_from_text(text: str, speed: float) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["fast-ish", "0", "-3", ""])
def test_a_speed_that_makes_no_sense_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="speed"):
        parse_speed(text)
