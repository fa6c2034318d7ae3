"""`optbus import span`: a SPAN file checked and stored where the risk service loads it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from optbus.span import latest_span_file
from optbus_cli.main import app

SAMPLE = Path(__file__).parents[2] / "tests/data/nse-span-20261207.spn"


def test_a_span_file_is_stored_under_its_business_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", "span", str(SAMPLE), "--span-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "SPAN file of 2026-12-07, 2 option risk arrays (NIFTY)" in result.output
    assert (tmp_path / "20261207.spn").read_bytes() == SAMPLE.read_bytes()


def test_the_stored_file_is_what_the_risk_service_loads(tmp_path: Path) -> None:
    CliRunner().invoke(app, ["import", "span", str(SAMPLE), "--span-dir", str(tmp_path)])

    loaded = latest_span_file(tmp_path)

    assert loaded is not None
    assert len(loaded.risk_arrays) == 2


def test_a_file_that_is_not_span_stores_nothing_and_exits_1(tmp_path: Path) -> None:
    other = tmp_path / "other.spn"
    other.write_text("<html/>")
    target = tmp_path / "span"

    result = CliRunner().invoke(app, ["import", "span", str(other), "--span-dir", str(target)])

    assert result.exit_code == 1
    assert not target.exists()
