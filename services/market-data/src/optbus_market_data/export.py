"""Export a simulated session to a recorded-session file (CSV or Parquet).

The file is deterministic: each event's ``ts_init`` is set to its market time, as if a source
had made every event the instant it happened, so the same configuration exports the same
bytes whenever and wherever it runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import msgspec

from optbus.clock import ReplayClock
from optbus.events import Event
from optbus.market import MarketFacts
from optbus_market_data.recorded import write_session
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig


def simulated_steps(
    config: SimulatorConfig, facts: MarketFacts, *, max_steps: int | None = None
) -> Iterator[list[Event]]:
    """The simulator's steps with ``ts_init`` at market time, at most ``max_steps`` of them."""
    simulator = ChainSimulator(config, facts, ReplayClock())
    steps = simulator.ticks()
    if max_steps is not None:
        steps = itertools.islice(steps, max_steps)
    for step in steps:
        yield [msgspec.structs.replace(event, ts_init=event.ts_event) for event in step]


def export_session(
    config: SimulatorConfig,
    path: Path | str,
    facts: MarketFacts,
    *,
    max_steps: int | None = None,
) -> int:
    """Simulate ``config`` and write it to ``path`` (format from the suffix); returns rows."""
    return write_session(simulated_steps(config, facts, max_steps=max_steps), path)
