"""How long to wait before trying a broker again: exponential, capped, jittered.

Market data waits so before reconnecting a feed, execution before asking a broker again.

The jitter ("equal jitter": half the delay fixed, half random) keeps many optbus instances
that lost the same broker at once from reconnecting in lockstep; the randomness is injected so
a test fixes it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays of ``base * 2**attempt`` seconds, at most ``cap``, the upper half random."""

    base_seconds: float
    cap_seconds: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait before retry ``attempt`` (0 for the first after a failure)."""
        ceiling = min(self.cap_seconds, math.ldexp(self.base_seconds, min(attempt, 62)))
        return ceiling / 2 + ceiling / 2 * rng.random()
