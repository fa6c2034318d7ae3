from pathlib import Path

from optbus.schemas import render_schemas

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def test_the_committed_schemas_match_the_event_code() -> None:
    committed = {path.name: path.read_text("utf-8") for path in SCHEMAS.glob("*.json")}

    assert committed == render_schemas(), "schemas/ is stale: run `make schemas`"
