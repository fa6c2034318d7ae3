"""``optbus train`` against the database: too little data is a clear message, not a model."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from optbus_cli.main import app

pytestmark = pytest.mark.integration


def test_training_with_too_few_closed_trades_says_so_and_makes_no_model(
    database_url: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["train", "--database-url", database_url, "--out-dir", str(tmp_path)]
    )

    assert result.exit_code == 2
    assert "not enough data to train" in result.output
    assert not any(tmp_path.iterdir())
