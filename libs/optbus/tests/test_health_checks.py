"""A blocking health check runs in one worker thread at a time, however often it is probed."""

from __future__ import annotations

import asyncio
import threading

import pytest

from optbus.runtime.health import threaded_check


async def test_a_hung_threaded_check_is_awaited_again_rather_than_started_again() -> None:
    release = threading.Event()
    runs: list[int] = []

    def hangs() -> bool:
        runs.append(1)
        release.wait()
        return True

    check = threaded_check(hangs)
    for _ in range(3):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(check(), 0.05)
    release.set()

    assert await check() is True
    assert len(runs) == 1
