"""A restore is complete or it fails: a fetch that times out early is asked again, and a read
that stalls raises instead of handing back part of the history."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from optbus.codec import encode
from optbus.events import VolatilityIndexTick
from optbus.runtime.history import IncompleteHistory, read_history

TIMEOUT = object()
"""A scripted fetch that times out; once the script is used up, every fetch does (a stall)."""


def _message(seq: int) -> Any:
    tick = VolatilityIndexTick(event_id=f"vix-{seq}", ts_event=seq, ts_init=seq,
                               index="INDIAVIX", value=13.0)  # fmt: skip
    return SimpleNamespace(data=encode(tick), metadata=SimpleNamespace(
        sequence=SimpleNamespace(stream=seq)))  # fmt: skip


@dataclass
class _Subscription:
    script: deque[Any]

    async def fetch(self, batch: int, wait: float) -> list[Any]:
        step = self.script.popleft() if self.script else TIMEOUT
        if step is TIMEOUT:
            raise TimeoutError
        return list(step)

    async def unsubscribe(self) -> None:
        pass


@dataclass
class _JetStream:
    """Each subject's message count when its consumer is made, and its fetches' script."""

    subjects: dict[str, tuple[int, list[Any]]]
    bound: dict[str, _Subscription] = field(default_factory=dict)

    async def add_consumer(self, stream: str, config: Any) -> Any:
        pending, script = self.subjects[config.filter_subject]
        self.bound[config.name] = _Subscription(deque(script))
        return SimpleNamespace(num_pending=pending)

    async def pull_subscribe_bind(self, stream: str, consumer: str) -> _Subscription:
        return self.bound[consumer]


def _ids(events: list[Any]) -> list[str]:
    return [event.event_id for event in events]


async def test_a_fetch_that_times_out_before_every_message_arrived_is_asked_again() -> None:
    js = _JetStream({"exec.>": (4, [[_message(1), _message(2)], TIMEOUT, TIMEOUT,
                                    [_message(3), _message(4)]])})  # fmt: skip

    events = await read_history(js, "TRADING", ["exec.>"], timeout_seconds=5)  # type: ignore[arg-type]

    assert _ids(events) == ["vix-1", "vix-2", "vix-3", "vix-4"]


async def test_a_read_that_stalls_fails_saying_which_stream_and_how_many_are_missing() -> None:
    js = _JetStream({"exec.>": (5, [[_message(1), _message(2)]])})

    with pytest.raises(IncompleteHistory, match=r"stream TRADING on exec\.>.*3 missing"):
        await read_history(js, "TRADING", ["exec.>"], timeout_seconds=0.3)  # type: ignore[arg-type]


async def test_a_subject_without_messages_is_read_without_waiting_for_any() -> None:
    js = _JetStream({"exec.>": (0, [])})

    events = await read_history(js, "TRADING", ["exec.>"], timeout_seconds=0.01)  # type: ignore[arg-type]

    assert events == []


async def test_the_subjects_are_merged_in_stream_order() -> None:
    js = _JetStream({"risk.>": (2, [[_message(2), _message(5)]]),
                     "exec.>": (2, [[_message(1), _message(7)]])})  # fmt: skip

    events = await read_history(js, "TRADING", ["risk.>", "exec.>"], timeout_seconds=5)  # type: ignore[arg-type]

    assert _ids(events) == ["vix-1", "vix-2", "vix-5", "vix-7"]
