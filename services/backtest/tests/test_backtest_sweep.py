"""Sweeps: the grid of named settings, one run per point, the same as a single run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from optbus.market import load_market_facts
from optbus_backtest.console import run_command
from optbus_backtest.options import BacktestInputError, BacktestOptions, backtest_config
from optbus_backtest.sweep import Axis, check_points, expand_grid, parse_axis, run_sweep
from optbus_backtest.wiring import strategy_specs

BASE = BacktestOptions(start_date=date(2026, 6, 1), seed=7, minutes=2, run_id="sw", store=False)


def test_an_option_axis_parses_its_values_as_numbers() -> None:
    assert parse_axis("latency_ms=0,250.5") == Axis("latency_ms", ("0", "250.5"), (0.0, 250.5))
    assert parse_axis("seed=1,2").values == (1, 2)


def test_a_strategy_axis_parses_values_as_toml_scalars() -> None:
    axis = parse_axis("strategy.short_strangle.lots=1,2.5,true,mid")

    assert axis.values == (1, 2.5, True, "mid")


@pytest.mark.parametrize(
    ("text", "message"),
    [("latency_ms", "name=value"), ("latency_ms=1,,2", "no empty value"),
     ("speed=1", "not sweepable; sweepable: capital"), ("seed=1.5", "must be a int"),
     ("strategy.lots=1", "strategy.<strategy name>.<parameter>")],
)  # fmt: skip
def test_a_bad_axis_is_refused_with_what_to_write(text: str, message: str) -> None:
    with pytest.raises(BacktestInputError, match=message):
        parse_axis(text)


def test_the_grid_is_every_combination_with_the_last_axis_fastest() -> None:
    axes = [parse_axis("capital=1e6,2e6"), parse_axis("strategy.short_strangle.lots=1,2")]

    points = expand_grid(BASE, axes)

    assert [p.run_id for p in points] == [
        "sw-capital=1e6-strategy.short_strangle.lots=1",
        "sw-capital=1e6-strategy.short_strangle.lots=2",
        "sw-capital=2e6-strategy.short_strangle.lots=1",
        "sw-capital=2e6-strategy.short_strangle.lots=2",
    ]
    assert [p.index for p in points] == [0, 1, 2, 3]
    assert points[3].options.capital == 2e6
    assert points[3].options.strategy_params == {"short_strangle": {"lots": 2}}
    assert BASE.strategy_params == {}, "the base options are left as they were"


def test_a_name_swept_twice_is_refused() -> None:
    with pytest.raises(BacktestInputError, match="swept twice"):
        expand_grid(BASE, [parse_axis("seed=1"), parse_axis("seed=2")])


def test_a_seed_sweep_needs_the_simulator(tmp_path: Path) -> None:
    with pytest.raises(BacktestInputError, match="simulator only"):
        expand_grid(BacktestOptions(file=tmp_path / "s.csv"), [parse_axis("seed=1,2")])


def test_a_strategy_parameter_reaches_the_strategy() -> None:
    (point,) = expand_grid(BASE, [parse_axis("strategy.short_strangle.target_profit=0.4")])

    specs = strategy_specs(backtest_config(point.options), load_market_facts())

    (strangle,) = [spec for spec in specs if spec.name == "short_strangle"]
    assert strangle.params.target_profit == 0.4


def test_a_bad_strategy_parameter_fails_the_sweep_before_any_run() -> None:
    points = expand_grid(BASE, [parse_axis("strategy.short_strangle.call_delta=0.2,0.9")])

    with pytest.raises(ValueError, match=r"call_delta and put_delta must be between 0 and 0\.5"):
        check_points(points)


def test_each_point_of_a_parallel_sweep_logs_what_a_single_run_of_it_logs(
    tmp_path: Path,
) -> None:
    base = BacktestOptions(start_date=date(2026, 6, 1), seed=7, minutes=6, run_id="det",
                           out_dir=tmp_path / "sweep", store=False)  # fmt: skip
    points = expand_grid(base, [parse_axis("latency_ms=0,1500")])

    outcomes = run_sweep(points, jobs=2)

    single = BacktestOptions(start_date=date(2026, 6, 1), seed=7, minutes=6, latency_ms=1500.0,
                             run_id="det-latency_ms=1500", out_dir=tmp_path / "one",
                             store=False)  # fmt: skip
    alone = run_command(single, Console(quiet=True))
    assert [o.run_id for o in outcomes] == ["det-latency_ms=0", "det-latency_ms=1500"]
    assert outcomes[1].trade_log_sha256 == alone.result.trade_log_sha256
    assert outcomes[0].trade_log_sha256 != outcomes[1].trade_log_sha256, "latency matters"
    assert (tmp_path / "sweep" / "det-latency_ms=0.html").exists()
