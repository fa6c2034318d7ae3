"""What a replay is asked to do, refused before anything starts when it cannot be done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from optbus.runtime.settings import DEFAULT_NATS_URL
from optbus_backtest.config import BacktestConfig
from optbus_market_data.pacing import Speed

RESULT_STREAMS = ("TRADING", "CONTROL", "DLQ")
"""What a replay stores by default: what the services decided. The greeks chains are left
out (``persist_chains``): the replay recomputes them from market data already stored."""


class LiveBusRefused(ValueError):
    """A replay was pointed at the live bus, which it must never publish onto."""


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """What to replay, how fast, under which run id, and onto which isolated bus."""

    start: datetime
    end: datetime
    run_id: str
    speed: Speed
    target_nats_url: str | None = None
    live_nats_url: str = DEFAULT_NATS_URL
    persist_chains: bool = False
    strategies_file: Path | None = None
    settle_timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not self.run_id or self.run_id == "live":
            raise ValueError(f"a replay needs a run id of its own, not {self.run_id!r}")
        if self.end <= self.start:
            raise ValueError(f"--to ({self.end}) must be after --from ({self.start})")
        if self.target_nats_url is not None and self.target_nats_url == self.live_nats_url:
            raise LiveBusRefused(
                "refusing to replay onto the live bus: give an isolated --target-nats-url "
                "or none (the replay then starts a NATS server of its own)"
            )


def replay_config(options: ReplayOptions) -> BacktestConfig:
    """The settings the replay's services run with, as a backtest configuration says them."""
    if options.strategies_file is None:
        return BacktestConfig(run_id=options.run_id)
    return BacktestConfig(run_id=options.run_id, strategies_file=options.strategies_file)
