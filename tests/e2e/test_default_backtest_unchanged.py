"""``optbus backtest --days 1 --seed 7`` writes the trade log docs/backtest.md documents: the
default run simulates NIFTY and BANKNIFTY only, draw for draw, whatever else the simulator can
follow. A change that moves a trade changes this figure and the document together."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TRADE_LOG_SHA256 = "304a8a04a571ba58b3e27670ba71f119e1098ffe76801a3ec3e135195f4cafdb"
"""The trade log of the default one-day run with seed 7 (docs/backtest.md)."""


def test_the_default_one_day_backtest_writes_the_same_trade_log(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "optbus_cli.main", "backtest", "--days", "1", "--seed", "7",
         "--no-store", "--out-dir", str(tmp_path)],
        check=True, capture_output=True, timeout=1800,
    )  # fmt: skip
    log = tmp_path / "backtest-2026-06-01-1d-seed7.jsonl"

    assert hashlib.sha256(log.read_bytes()).hexdigest() == TRADE_LOG_SHA256
