"""Exporting a simulated session writes a file that plays back the simulator's market data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from optbus.events import OptionChainSnapshot
from optbus.market import MarketFacts
from optbus_market_data.export import export_session
from optbus_market_data.recorded import read_session
from optbus_market_data.simulator import SimulatorConfig


def test_an_exported_session_reads_back_with_the_simulated_quotes(
    facts: MarketFacts, make_config: Callable[..., SimulatorConfig], tmp_path: Path
) -> None:
    path = tmp_path / "export.parquet"

    export_session(make_config(), path, facts, max_steps=3)
    steps = list(read_session(path))

    assert len(steps) == 3
    assert all(isinstance(e, OptionChainSnapshot) for e in steps[0][:-1])


def test_an_exported_event_was_made_at_its_market_time(
    facts: MarketFacts, make_config: Callable[..., SimulatorConfig], tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"

    export_session(make_config(), path, facts, max_steps=2)

    assert all(e.ts_init == e.ts_event for step in read_session(path) for e in step)


def test_exporting_twice_gives_the_same_bytes(
    facts: MarketFacts, make_config: Callable[..., SimulatorConfig], tmp_path: Path
) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"

    export_session(make_config(), first, facts, max_steps=2)
    export_session(make_config(), second, facts, max_steps=2)

    assert first.read_bytes() == second.read_bytes()
