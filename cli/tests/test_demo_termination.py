"""SIGTERM stops the demo wherever it lands, background tasks of an event loop included."""

from __future__ import annotations

import asyncio
import signal

import pytest

from optbus_cli.demo import Terminated


async def _signal_lands_in_a_background_task() -> None:
    async def background() -> None:
        raise Terminated(128 + signal.SIGTERM)

    task = asyncio.get_running_loop().create_task(background())
    await asyncio.sleep(2)
    task.cancel()


def test_termination_in_a_background_task_leaves_the_event_loop() -> None:
    with pytest.raises(Terminated):
        asyncio.run(_signal_lands_in_a_background_task())
