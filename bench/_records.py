"""Benchmark records and timing helpers shared by the bench_*.py modules."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Record = dict[str, Any]


def record(name: str, value: float, unit: str, reference: str, reference_value: float) -> Record:
    """One result measured beside its reference; ratio = value / reference_value."""
    ratio = value / reference_value if reference_value else float("nan")
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "reference": reference,
        "reference_value": reference_value,
        "ratio": ratio,
    }


def best_seconds(func: Callable[[], object], repeats: int) -> float:
    """Fastest of ``repeats`` timed calls: the least disturbed by other load on the box."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


@contextmanager
def one_core() -> Iterator[None]:
    """Pin the process (all its threads) to a single CPU for single-core figures."""
    if not hasattr(os, "sched_getaffinity"):
        yield
        return
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)
