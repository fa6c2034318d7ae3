"""Pacing a source against the wall clock: real time, N times real time, or as fast as possible.

Pure functions: the service measures nothing here, it asks how long to sleep between steps.
"""

from __future__ import annotations

import math
from typing import Final

Speed = float
"""A multiple of real time: 1.0 plays a session as it happened, ``MAX_SPEED`` never waits."""

MAX_SPEED: Final[Speed] = math.inf

CLOSED_MARKET_GAP_NS: Final = 3_600 * 1_000_000_000
"""A gap in market time longer than this is the market being shut (overnight, a weekend):
nobody wants to wait for it, so the next session starts at once."""

_NS_PER_SECOND: Final = 1e9
_MAX_WORDS: Final = frozenset({"max", "maximum", "fast", "asap", "inf", "infinite"})


def parse_speed(text: str) -> Speed:
    """Read a speed: ``"1"`` or ``"realtime"`` (real time), ``"10"`` or ``"10x"``, ``"max"``."""
    cleaned = text.strip().lower()
    if cleaned in _MAX_WORDS:
        return MAX_SPEED
    if cleaned in {"realtime", "real-time", "real"}:
        return 1.0
    number = cleaned.removesuffix("x").strip()
    try:
        speed = float(number)
    except ValueError:
        raise ValueError(f"not a speed: {text!r} (use 'max', '1', '10x', ...)") from None
    if not speed > 0:
        raise ValueError(f"speed must be positive, got {text!r}")
    return speed


def wait_seconds(
    speed: Speed,
    previous_ns: int | None,
    next_ns: int,
    *,
    closed_market_gap_ns: int = CLOSED_MARKET_GAP_NS,
) -> float:
    """How long to wait before publishing the step at market time ``next_ns``.

    No wait for the first step, at maximum speed, when market time does not advance, or across
    a closed market (a gap longer than ``closed_market_gap_ns``); otherwise the market-time
    gap divided by the speed.
    """
    if previous_ns is None or math.isinf(speed):
        return 0.0
    gap_ns = next_ns - previous_ns
    if gap_ns <= 0 or gap_ns > closed_market_gap_ns:
        return 0.0
    return gap_ns / _NS_PER_SECOND / speed
