"""``optbus backtest --days 1 --seed 7`` trades exactly as before the simulator could follow
the whole F&O segment: the default run still simulates NIFTY and BANKNIFTY only, draw for draw."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TRADE_LOG_SHA256 = "e22ee2e8bf4d5e27070fa3a594ef42e9a3a443e35ac4490d82e50ac5d3983839"
"""The trade log of the default one-day run with seed 7, as the code before the universe made it."""


def test_the_default_one_day_backtest_writes_the_same_trade_log(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "optbus_cli.main", "backtest", "--days", "1", "--seed", "7",
         "--no-store", "--out-dir", str(tmp_path)],
        check=True, capture_output=True, timeout=1800,
    )  # fmt: skip
    log = tmp_path / "backtest-2026-06-01-1d-seed7.jsonl"

    assert hashlib.sha256(log.read_bytes()).hexdigest() == TRADE_LOG_SHA256
