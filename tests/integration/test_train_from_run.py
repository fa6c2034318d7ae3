"""Training on a stored backtest run: its trades kept whole, checked and trained on by run id."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import pytest
from typer.testing import CliRunner

from optbus.codec import encode
from optbus.events import TradeClosed
from optbus.routing import subject_of
from optbus_cli.main import app
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore
from optbus_strategy.config import default_strategies_path
from optbus_trainer.job import load_run_trades

from ..conftest import fresh_database
from .conftest import simulated_steps

pytestmark = pytest.mark.integration

DAY = date(2026, 12, 2)
RUN = "it-train-run"
QUICK_EXITS = ("max_holding_minutes = 180.0", "max_holding_minutes = 3.0")


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def stored_run(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database with twelve recorded minutes and the stored backtest run ``RUN`` of them."""
    events = [e for step in simulated_steps(DAY, 12 * 60, "it-train") for e in step]
    out = tmp_path_factory.mktemp("train-run")
    strategies = out / "strategies.toml"
    strategies.write_text(default_strategies_path().read_text().replace(*QUICK_EXITS))
    with fresh_database(postgres_admin_url, f"optbus_train_run_{os.getpid()}") as url:
        migrate(url)
        store = EventStore(url)
        store.write([
            decode_stored(BusMessage("MD", seq, subject_of(e), encode(e), e.ts_event, None))
            for seq, e in enumerate(events, start=1)
        ])  # fmt: skip
        store.close()
        code, output = _cli("backtest", "--from", f"{DAY}T00:00", "--to", f"{DAY}T23:59",
                            "--strategies", str(strategies), "--run-id", RUN, "--store",
                            "--out-dir", str(out), "--database-url", url)  # fmt: skip
        assert code == 0, output
        yield url


def test_a_stored_run_keeps_its_trades_whole(stored_run: str) -> None:
    trades = load_run_trades(stored_run, RUN)

    assert trades
    assert all(isinstance(t, TradeClosed) and t.model is not None for t in trades)


def test_the_quality_of_a_run_is_checked_on_its_trades(stored_run: str) -> None:
    code, output = _cli("dq", "--run-id", RUN, "--no-publish", "--database-url", stored_run)

    assert code == 0, output
    assert f"data quality of run {RUN}" in output
    assert "data quality passed" in output


def test_training_on_a_run_too_short_to_validate_is_refused_plainly(stored_run: str) -> None:
    code, output = _cli("train", "--run-id", RUN, "--database-url", stored_run)

    assert code == 2, output
    assert "not training" in output
    assert f"{len(load_run_trades(stored_run, RUN))} trades" in output


def test_training_on_an_unknown_run_names_it(stored_run: str) -> None:
    code, output = _cli("train", "--run-id", "no-such-run", "--database-url", stored_run)

    assert code == 2, output
    assert "no stored run 'no-such-run'" in output
