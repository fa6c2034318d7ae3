"""Option sets for the pricing benchmarks: random over issue 3's ranges, and NIFTY-like chains."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optbus.pricing import black76_price

ONE_MINUTE = 1.0 / (365.0 * 24 * 60)
TICK = 0.05
STRIKES_PER_SIDE = 60  # 121 strikes 50 apart: a NIFTY weekly chain, calls and puts


@dataclass(frozen=True)
class Options:
    """A batch of Black-76 options with their true vols and their prices."""

    is_call: np.ndarray
    forward: np.ndarray
    strike: np.ndarray
    t: np.ndarray
    rate: np.ndarray
    vol: np.ndarray
    price: np.ndarray

    def take(self, rows: slice | np.ndarray) -> Options:
        """The options at rows."""
        return Options(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))

    @property
    def flags(self) -> np.ndarray:
        """py_vollib's 'c'/'p' flags."""
        return np.where(self.is_call, "c", "p")


def random_options(n: int, seed: int = 42) -> Options:
    """n options over issue 3's ranges, each with at least one 0.05 tick of time value."""
    rng = np.random.default_rng(seed)
    m = int(n * 2.6) + 1000
    forward = np.exp(rng.uniform(math.log(50.0), math.log(60_000.0), m))
    strike = forward * rng.uniform(0.5, 1.5, m)
    t = np.exp(rng.uniform(math.log(ONE_MINUTE), math.log(2.0), m))
    rate, vol = rng.uniform(-0.01, 0.15, m), rng.uniform(0.01, 3.0, m)
    is_call = rng.random(m) < 0.5
    price = black76_price(is_call, forward, strike, t, rate, vol)
    intrinsic = np.exp(-rate * t) * np.maximum(np.where(is_call, 1, -1) * (forward - strike), 0)
    keep = np.flatnonzero(price - intrinsic >= TICK)[:n]
    return Options(is_call, forward, strike, t, rate, vol, price).take(keep)


def nifty_chains(n_options: int, seed: int = 7) -> list[Options]:
    """Whole chains like NIFTY's: 121 strikes around the forward, both sides, a smile,
    expiries from one minute to 30 days, prices rounded to the 0.05 tick."""
    rng = np.random.default_rng(seed)
    offsets = 50.0 * np.arange(-STRIKES_PER_SIDE, STRIKES_PER_SIDE + 1)
    chains = []
    for _ in range(max(1, n_options // (2 * offsets.size))):
        forward = rng.uniform(20_000.0, 26_000.0)
        strike = np.tile(50.0 * round(forward / 50.0) + offsets, 2)
        is_call = np.repeat([True, False], offsets.size)
        t = math.exp(rng.uniform(math.log(ONE_MINUTE), math.log(30 / 365)))
        x = np.log(strike / forward)
        vol = np.maximum(rng.uniform(0.10, 0.25) * (1 + 8 * x * x) - 0.3 * x, 0.05)
        model = black76_price(is_call, forward, strike, t, 0.065, vol)
        price = np.maximum(np.round(model / TICK) * TICK, TICK)
        n = strike.size
        chains.append(
            Options(
                is_call, np.full(n, forward), strike, np.full(n, t), np.full(n, 0.065), vol, price
            )
        )
    return chains


def concatenate(chains: list[Options]) -> Options:
    """All chains as one batch."""
    fields = Options.__dataclass_fields__
    return Options(*(np.concatenate([getattr(c, f) for c in chains]) for f in fields))
