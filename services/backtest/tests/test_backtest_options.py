"""The command line's options: checked up front, with messages that say what to fix."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from optbus_backtest.options import (
    BacktestInputError,
    BacktestOptions,
    backtest_config,
    charges_schedule_of,
    check_options,
    config_json,
)

SHIPPED = Path(__file__).resolve().parents[3] / "libs/optbus/src/optbus/data"
JUNE = datetime(2026, 6, 1, 4, tzinfo=UTC)


def test_broker_settings_map_onto_the_paper_broker() -> None:
    options = BacktestOptions(latency_ms=12.5, slippage_spread_fraction=0.25,
                              brokerage_per_order=15.0)  # fmt: skip

    broker = backtest_config(options).broker

    assert broker.latency_ns == 12_500_000
    assert broker.slippage.spread_fraction == 0.25
    assert broker.slippage.size_impact == 0.5, "the size impact not given keeps its default"
    assert broker.brokerage_per_order == 15.0


def test_options_left_out_keep_the_live_defaults() -> None:
    assert backtest_config(BacktestOptions()).broker.latency_ns == 200_000_000


def test_a_charges_schedule_is_named_by_its_effective_date() -> None:
    assert charges_schedule_of("2024-10-01").stt_sell_percent == Decimal("0.1")


def test_a_charges_schedule_can_be_a_file(tmp_path: Path) -> None:
    text = (SHIPPED / "charges-2026-04-01.toml").read_text().replace("0.15", "0.2")
    (tmp_path / "charges-2027-04-01.toml").write_text(text.replace("2026-04-01", "2027-04-01"))

    schedule = charges_schedule_of(str(tmp_path / "charges-2027-04-01.toml"))

    assert schedule.stt_sell_percent == Decimal("0.2")


@pytest.mark.parametrize(
    ("name", "message"),
    [("2025-01-01", "no shipped charges schedule '2025-01-01'; known: 2024-10-01"),
     ("missing/charges-2027-01-01.toml", "charges schedule file not found")],
)  # fmt: skip
def test_an_unknown_charges_schedule_is_refused_with_what_exists(name: str, message: str) -> None:
    with pytest.raises(BacktestInputError, match=message):
        backtest_config(BacktestOptions(charges_schedule=name))


def test_a_missing_recorded_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BacktestInputError, match="recorded session file not found"):
        check_options(BacktestOptions(file=tmp_path / "nope.csv"))


def test_a_missing_strategies_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BacktestInputError, match="strategies file not found"):
        check_options(BacktestOptions(strategies=tmp_path / "nope.toml"))


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(BacktestInputError, match="must be before --to"):
        check_options(BacktestOptions(window=(JUNE, JUNE.replace(hour=3))))


def test_a_file_and_a_window_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("")
    with pytest.raises(BacktestInputError, match="not both"):
        check_options(BacktestOptions(file=tmp_path / "s.csv", window=(JUNE, JUNE)))


def test_a_negative_capital_is_an_input_error() -> None:
    with pytest.raises(BacktestInputError, match="capital"):
        backtest_config(BacktestOptions(capital=-1.0))


def test_the_run_id_is_named_after_the_input() -> None:
    window = BacktestOptions(window=(JUNE, JUNE.replace(hour=10)))
    assert window.resolved_run_id() == "backtest-db-20260601T0400-20260601T1000"
    assert BacktestOptions(seed=3).resolved_run_id() == "backtest-2026-06-01-1d-seed3"
    assert BacktestOptions(run_id="mine").resolved_run_id() == "mine"


def test_the_stored_configuration_is_json_with_paths_as_text() -> None:
    stored = msgspec.json.decode(config_json(backtest_config(BacktestOptions(run_id="r"))))

    assert stored["run_id"] == "r"
    assert stored["strategies_file"].endswith("strategies.toml")
    assert stored["broker"]["latency_ns"] == 200_000_000
