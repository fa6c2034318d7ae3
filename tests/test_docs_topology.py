"""The consumer tables in docs/architecture.md are the services' declared topologies."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    return load_script(ROOT / "docs" / "generate_topology.py")


def test_the_architecture_doc_shows_the_declared_topologies() -> None:
    generator = _generator()
    text = generator.ARCHITECTURE.read_text(encoding="utf-8")
    assert text == generator.updated(text), (
        "docs/architecture.md's topology tables are stale: run "
        "`uv run python docs/generate_topology.py`"
    )


def test_the_table_lists_every_declared_durable_once() -> None:
    generator = _generator()
    table = generator.render()
    for topology in generator.TOPOLOGIES:
        for consumer in topology.consumers:
            assert table.count(f"| `{consumer.durable}` |") == 1, consumer.durable
