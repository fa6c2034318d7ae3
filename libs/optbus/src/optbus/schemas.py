"""JSON Schema of every bus message, generated from the event Structs (the bus contract).

Run ``python -m optbus.schemas schemas/`` (``make schemas``) after changing ``events.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import msgspec

from optbus.events import ALL_EVENT_TYPES, KillSwitchCommand

CONTRACT_TYPES: tuple[type[msgspec.Struct], ...] = (*ALL_EVENT_TYPES, KillSwitchCommand)


def _file_name(kind: type[msgspec.Struct]) -> str:
    tag = kind.__struct_config__.tag
    return f"{tag if isinstance(tag, str) else 'control.killswitch'}.json"


def render_schemas() -> dict[str, str]:
    """File name -> JSON Schema text, one self-contained schema per message type."""
    rendered = {}
    for kind in CONTRACT_TYPES:
        (ref,), components = msgspec.json.schema_components([kind], ref_template="#/$defs/{name}")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": kind.__name__,
            **ref,
            "$defs": components,
        }
        rendered[_file_name(kind)] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema into ``directory`` and remove schemas of types that are gone."""
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for stale in directory.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    written = []
    for name, text in rendered.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(path)
