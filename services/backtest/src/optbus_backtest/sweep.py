"""Parameter sweeps: a grid of named settings, each point one run under its own run id.

``--sweep name=v1,v2 --sweep other=w1,w2`` is the grid of every combination, in the order
given (the last name varies fastest); point ``i`` of it is what ``--sweep-index i`` runs, which
is how a Kubernetes Indexed Job spreads a sweep over pods. Sweepable names:

- ``capital``, ``latency_ms``, ``slippage_spread_fraction``, ``slippage_size_impact``,
  ``brokerage_per_order``: the run's options of those names;
- ``seed``: the simulator's seed (simulated runs only);
- ``strategy.<name>.<param>``: a parameter of a strategy of the strategies file.

A point runs exactly as a single run with the same options does, so it makes the same trade
log (the same hash).
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from optbus.market import load_market_facts
from optbus_backtest.figures import HEADLINE_FIGURES
from optbus_backtest.job import checked_config, execute, prepare
from optbus_backtest.options import BacktestInputError, BacktestOptions

OPTION_NAMES: dict[str, type[float] | type[int]] = {
    "capital": float,
    "latency_ms": float,
    "slippage_spread_fraction": float,
    "slippage_size_impact": float,
    "brokerage_per_order": float,
    "seed": int,
}
STRATEGY_PREFIX = "strategy."
Scalar = int | float | bool | str


@dataclass(frozen=True, slots=True)
class Axis:
    """One swept name and its values (as typed, and as parsed)."""

    name: str
    texts: tuple[str, ...]
    values: tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One point of the grid: its index, its settings and the options that run it."""

    index: int
    settings: tuple[tuple[str, str], ...]
    options: BacktestOptions

    @property
    def run_id(self) -> str:
        """The point's run id: ``<base>-<name>=<value>...``."""
        return self.options.resolved_run_id()


@dataclass(frozen=True, slots=True)
class PointOutcome:
    """What one point's run gives back to the sweep (small, to cross process boundaries)."""

    index: int
    run_id: str
    settings: tuple[tuple[str, str], ...]
    trade_log_sha256: str
    figures: dict[str, float | None]
    stored: str


def _scalar(text: str) -> Scalar:
    """A strategy parameter's value as TOML would read it: integer, float, boolean or text."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text, text)


def parse_axis(text: str) -> Axis:
    """``name=v1,v2,...`` as an Axis; a BacktestInputError says what is wrong."""
    name, equals, values = text.partition("=")
    name = name.strip()
    texts = tuple(v.strip() for v in values.split(","))
    if not equals or not name or not all(texts):
        raise BacktestInputError(f"--sweep {text!r}: write name=value,value,... (no empty value)")
    if name.startswith(STRATEGY_PREFIX):
        if len(name.split(".")) != 3 or not all(name.split(".")):
            raise BacktestInputError(f"--sweep {name!r}: a strategy parameter is "
                                     "strategy.<strategy name>.<parameter>")  # fmt: skip
        return Axis(name, texts, tuple(_scalar(t) for t in texts))
    convert = OPTION_NAMES.get(name)
    if convert is None:
        known = ", ".join([*OPTION_NAMES, "strategy.<name>.<param>"])
        raise BacktestInputError(f"--sweep {name!r} is not sweepable; sweepable: {known}")
    try:
        return Axis(name, texts, tuple(convert(t) for t in texts))
    except ValueError:
        raise BacktestInputError(
            f"--sweep {name}: every value must be a {convert.__name__}, got {texts}"
        ) from None


def _with_setting(options: BacktestOptions, name: str, value: Scalar) -> BacktestOptions:
    if name.startswith(STRATEGY_PREFIX):
        _, strategy, param = name.split(".")
        params = {k: dict(v) for k, v in options.strategy_params.items()}
        params.setdefault(strategy, {})[param] = value
        return dataclasses.replace(options, strategy_params=params)
    if name == "seed" and (options.file is not None or options.window is not None):
        raise BacktestInputError("--sweep seed: a seed applies to the simulator only")
    changes: dict[str, Any] = {name: value}
    return dataclasses.replace(options, **changes)


def expand_grid(base: BacktestOptions, axes: Sequence[Axis]) -> list[SweepPoint]:
    """Every point of the grid, in order (the last axis varies fastest)."""
    names = [axis.name for axis in axes]
    if len(set(names)) != len(names):
        raise BacktestInputError(f"--sweep: a name is swept twice: {names}")
    base_id = base.resolved_run_id()
    points = []
    pairs = [list(zip(axis.texts, axis.values, strict=True)) for axis in axes]
    for index, combination in enumerate(itertools.product(*pairs)):
        options = base
        settings = []
        for axis, (text, value) in zip(axes, combination, strict=True):
            options = _with_setting(options, axis.name, value)
            settings.append((axis.name, text))
        run_id = "-".join([base_id, *(f"{name}={text}" for name, text in settings)])
        options = dataclasses.replace(options, run_id=run_id)
        points.append(SweepPoint(index, tuple(settings), options))
    return points


def run_point(point: SweepPoint) -> PointOutcome:
    """Run one point (in a worker process, or in this one for ``--sweep-index``)."""
    outcome = execute(prepare(point.options, load_market_facts()))
    return PointOutcome(
        index=point.index,
        run_id=point.run_id,
        settings=point.settings,
        trade_log_sha256=outcome.result.trade_log_sha256,
        figures={figure.field: figure.value(outcome.performance) for figure in HEADLINE_FIGURES},
        stored=outcome.stored,
    )


def check_points(points: Sequence[SweepPoint]) -> None:
    """Check every point's input before any runs: a bad point fails the sweep up front."""
    facts = load_market_facts()
    for point in points:
        checked_config(point.options, facts)


def run_sweep(
    points: Sequence[SweepPoint],
    jobs: int | None = None,
    on_done: Callable[[PointOutcome], Any] | None = None,
) -> list[PointOutcome]:
    """Run the points in ``jobs`` worker processes (default: one per CPU); in grid order."""
    workers = max(1, min(jobs or os.cpu_count() or 1, len(points)))
    outcomes = []
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        futures = [pool.submit(run_point, point) for point in points]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
    return sorted(outcomes, key=lambda outcome: outcome.index)
