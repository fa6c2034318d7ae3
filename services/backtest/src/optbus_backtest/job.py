"""One backtest run from its options to its files and its stored row: no console, no progress.

The command (console.py) wraps it with a progress bar; a sweep runs it in worker processes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from optbus.events import Event
from optbus.market import MarketFacts
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import BacktestResult, StepCallback, run_backtest
from optbus_backtest.marks import MarkPoint
from optbus_backtest.options import BacktestOptions, backtest_config, check_options, config_json
from optbus_backtest.origins import QuoteOrigins
from optbus_backtest.performance import RunPerformance, compute_performance
from optbus_backtest.report import write_report
from optbus_backtest.sources import market_steps
from optbus_backtest.store import RunRecord, store_run
from optbus_backtest.tradelog import TradeLog
from optbus_backtest.wiring import strategy_specs


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """A finished run: what it produced, where its files are, and whether it was stored."""

    result: BacktestResult
    performance: RunPerformance
    trade_log: Path
    report: Path
    figures: Path
    stored: str


@dataclass(frozen=True, slots=True)
class RunFiles:
    """What a run writes: its trade log, its report and its figures (and those figures)."""

    trade_log: Path
    report: Path
    figures: Path
    performance: RunPerformance


def write_run_files(
    out_dir: Path,
    run_id: str,
    log: TradeLog,
    capital: float,
    facts: MarketFacts,
    origins: QuoteOrigins | None = None,
    marks: Sequence[MarkPoint] = (),
) -> RunFiles:
    """Write ``<run-id>.jsonl``, the HTML report and its figures as JSON under ``out_dir``
    (marked to market when the run's ``marks`` are given)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    trade_log = out_dir / f"{run_id}.jsonl"
    log.write(trade_log)
    performance = compute_performance(log.events, capital, facts, origins, marks)
    report, figures = write_report(out_dir, run_id, performance, facts)
    return RunFiles(trade_log, report, figures, performance)


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A checked run, ready to go: its configuration and its market steps."""

    options: BacktestOptions
    config: BacktestConfig
    facts: MarketFacts
    steps: Iterator[list[Event]]
    total_steps: int | None


def checked_config(options: BacktestOptions, facts: MarketFacts) -> BacktestConfig:
    """The run's configuration, once options and strategies are checked (errors up front)."""
    check_options(options)
    config = backtest_config(options)
    strategy_specs(config, facts)
    return config


def prepare(options: BacktestOptions, facts: MarketFacts) -> PreparedRun:
    """Check the options and open the source; every input error is raised here, up front."""
    config = checked_config(options, facts)
    steps, total = market_steps(options, facts)
    return PreparedRun(options, config, facts, steps, total)


def execute(prepared: PreparedRun, on_step: StepCallback | None = None) -> RunOutcome:
    """Run it, write the trade log, the report and the figures, and store it as asked."""
    options, config = prepared.options, prepared.config
    result = run_backtest(prepared.steps, config, facts=prepared.facts, on_step=on_step)
    capital = result.services.risk.env.config.capital
    files = write_run_files(
        options.out_dir,
        config.run_id,
        result.trade_log,
        capital,
        prepared.facts,
        result.quote_origins,
        result.marks,
    )
    record = RunRecord(
        run_id=config.run_id,
        source=options.source_description(),
        config_json=config_json(config),
        trade_log_sha256=result.trade_log_sha256,
        performance=files.performance,
    )
    stored = store_run(options.database_url, record, options.store)
    return RunOutcome(
        result, files.performance, files.trade_log, files.report, files.figures, stored
    )
