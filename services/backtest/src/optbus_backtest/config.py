"""What a backtest run is configured with: run id, strategies, capital, broker settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from optbus_execution.config import PaperBrokerConfig
from optbus_risk.config import DEFAULT_CONFIG_PATH
from optbus_strategy.config import default_strategies_path

BACKTEST_ALGO_ID = "OPTBUS-BACKTEST"


class BacktestConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One backtest's settings; every field has the live services' default.

    ``capital`` overrides the risk file's capital (None keeps it); ``broker`` is the paper
    broker (latency, slippage, brokerage, charges); the risk-free rate is the dated one of
    ``optbus.rates``, as in the live services. ``strategy_params`` changes parameters of the
    strategies file's strategies: ``{"short_strangle": {"target_profit": 0.4}}`` (a sweep's
    ``strategy.<name>.<param>``).
    """

    run_id: str = "backtest"
    strategies_file: Path = msgspec.field(default_factory=default_strategies_path)
    risk_file: Path = DEFAULT_CONFIG_PATH
    capital: float | None = None
    broker: PaperBrokerConfig = PaperBrokerConfig(algo_id=BACKTEST_ALGO_ID)
    strategy_params: dict[str, dict[str, Any]] = {}

    def __post_init__(self) -> None:
        if not self.run_id:
            raise ValueError("run_id must not be empty")
        if self.capital is not None and not self.capital > 0:
            raise ValueError(f"capital must be positive, got {self.capital}")
