"""What ``optbus backtest`` is asked to run, checked, and turned into a BacktestConfig.

Every mistake in the input (a missing file, an empty or inverted window, an unknown charges
schedule, a bad strategy parameter) is a ``BacktestInputError`` whose message says what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec

from optbus.fees import (
    ChargesSchedule,
    ChargesScheduleError,
    read_charges_schedule,
    shipped_charges_schedule,
)
from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_backtest.config import BacktestConfig
from optbus_execution.config import PaperBrokerConfig, SlippageModel

NS_PER_MS = 1_000_000


class BacktestInputError(ValueError):
    """The command line asks for something that cannot be run; the message says why."""


@dataclass(frozen=True, slots=True)
class BacktestOptions:
    """The command line of ``optbus backtest`` (one run).

    The source is the simulator (``days``, ``start_date``, ``seed``) unless ``file`` (a
    recorded session) or ``window`` (recorded events in the database, ``[from, to)``) is
    given. Broker settings left None keep the paper broker's defaults. ``store``: True
    stores the run in the database or fails, None stores it when the database answers, False
    does not try.
    """

    days: int = 1
    start_date: date = date(2026, 6, 1)
    seed: int = 7
    file: Path | None = None
    window: tuple[datetime, datetime] | None = None
    minutes: int | None = None
    strategies: Path | None = None
    capital: float | None = None
    charges_schedule: str | None = None
    latency_ms: float | None = None
    slippage_spread_fraction: float | None = None
    slippage_size_impact: float | None = None
    brokerage_per_order: float | None = None
    strategy_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str | None = None
    out_dir: Path = Path()
    database_url: str = DEFAULT_DATABASE_URL
    store: bool | None = False

    def resolved_run_id(self) -> str:
        """The run id given, or one named after the input."""
        if self.run_id:
            return self.run_id
        if self.file is not None:
            return f"backtest-{self.file.name.split('.')[0]}"
        if self.window is not None:
            start, end = (moment.strftime("%Y%m%dT%H%M") for moment in self.window)
            return f"backtest-db-{start}-{end}"
        return f"backtest-{self.start_date.isoformat()}-{self.days}d-seed{self.seed}"

    def source_description(self) -> str:
        """The input in words, as stored with the run."""
        if self.file is not None:
            text = f"recorded file {self.file}"
        elif self.window is not None:
            start, end = (moment.isoformat() for moment in self.window)
            text = f"database window [{start}, {end})"
        else:
            text = f"simulator seed {self.seed} from {self.start_date}, {self.days} day(s)"
        return text if self.minutes is None else f"{text}, first {self.minutes} minute(s)"


def check_options(options: BacktestOptions) -> None:
    """Refuse options that cannot run, before any work starts."""
    if options.file is not None and options.window is not None:
        raise BacktestInputError("give a recorded --file or a database --from/--to, not both")
    if options.file is not None and not options.file.is_file():
        raise BacktestInputError(f"recorded session file not found: {options.file}")
    if options.strategies is not None and not options.strategies.is_file():
        raise BacktestInputError(f"strategies file not found: {options.strategies}")
    if options.window is not None:
        start, end = options.window
        if start >= end:
            raise BacktestInputError(
                f"--from {start.isoformat()} must be before --to {end.isoformat()}"
            )


def charges_schedule_of(text: str) -> ChargesSchedule:
    """A shipped schedule by name (``2024-10-01``) or a schedule file's path."""
    path = Path(text)
    try:
        if path.suffix == ".toml" and path.exists():
            return read_charges_schedule(path)
        if path.suffix == ".toml" and len(path.parts) > 1:
            raise BacktestInputError(f"charges schedule file not found: {path}")
        return shipped_charges_schedule(text)
    except ChargesScheduleError as exc:
        raise BacktestInputError(str(exc)) from None


def backtest_config(options: BacktestOptions) -> BacktestConfig:
    """The run's configuration: the defaults with what the options change."""
    base = BacktestConfig()
    try:
        return BacktestConfig(
            run_id=options.resolved_run_id(),
            strategies_file=options.strategies or base.strategies_file,
            capital=options.capital,
            broker=_broker(options, base.broker),
            strategy_params=options.strategy_params,
        )
    except ValueError as exc:
        raise BacktestInputError(str(exc)) from None


def _broker(options: BacktestOptions, broker: PaperBrokerConfig) -> PaperBrokerConfig:
    changes: dict[str, Any] = {}
    if options.latency_ms is not None:
        changes["latency_ns"] = round(options.latency_ms * NS_PER_MS)
    if options.brokerage_per_order is not None:
        changes["brokerage_per_order"] = options.brokerage_per_order
    if options.charges_schedule is not None:
        changes["charges_schedule"] = charges_schedule_of(options.charges_schedule)
    spread, impact = options.slippage_spread_fraction, options.slippage_size_impact
    if spread is not None or impact is not None:
        changes["slippage"] = SlippageModel(
            spread_fraction=broker.slippage.spread_fraction if spread is None else spread,
            size_impact=broker.slippage.size_impact if impact is None else impact,
        )
    return PaperBrokerConfig(**{**msgspec.structs.asdict(broker), **changes})


def config_json(config: BacktestConfig) -> bytes:
    """The configuration as JSON (paths as text), as stored with the run."""
    return msgspec.json.encode(config, enc_hook=_path_as_text)


def _path_as_text(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__}")
