"""The risk service's limits: a frozen configuration read from ``config/risk.toml``.

Every number a risk check or the position monitor uses lives in this file or in the market
facts (docs/architecture.md, "Market facts"); the code holds none. Percentages are in percent
(2.0 is 2 %).
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated

import msgspec

Positive = Annotated[float, msgspec.Meta(gt=0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]

NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "risk.toml"
"""``services/risk/config/risk.toml`` in the source tree (the composition root may pass another)."""


class _Section(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Base of every configuration section: frozen, keyword-only, strict about unknown keys."""


class SegmentsConfig(_Section, kw_only=True, frozen=True):
    """Which exchange segment each underlying trades in (the order-rate limit is per segment)."""

    default: str
    by_underlying: dict[str, str] = {}

    def of(self, underlying: str) -> str:
        """The segment of ``underlying`` (the default when it is not listed)."""
        return self.by_underlying.get(underlying, self.default)


class CircuitBreakerConfig(_Section, kw_only=True, frozen=True):
    """When the day's trading halts: today's loss (realised plus unrealised) or its fall from
    today's peak, as percents of capital, or losses in a row."""

    max_daily_loss_pct: Percent
    max_drawdown_pct: Percent
    max_consecutive_losses: PositiveInt


class OrderRateConfig(_Section, kw_only=True, frozen=True):
    """At most ``max_orders`` orders (slices included) in any sliding window of ``window_ms``."""

    max_orders: PositiveInt
    window_ms: PositiveInt

    @property
    def window_ns(self) -> int:
        """The window length in nanoseconds."""
        return self.window_ms * NS_PER_MS


class OrdersConfig(_Section, kw_only=True, frozen=True):
    """Per-order limits: freeze-quantity slicing, notional and premium."""

    allow_freeze_slicing: bool
    max_notional_per_order: Positive
    max_premium_per_order: Positive


class PriceBandConfig(_Section, kw_only=True, frozen=True):
    """The exchange's operating range for options around the latest price."""

    threshold: Positive
    absolute: Positive
    relative_pct: Percent


class MarginConfig(_Section, kw_only=True, frozen=True):
    """The SPAN-style scenario grid and how much of the capital margin may use (the exchange's
    exposure and expiry-day rules are dated data: ``optbus.margin_rules``)."""

    max_use_pct: Percent
    price_scan_pct: Percent
    price_scan_steps: PositiveInt
    vol_scan_points: NonNegative
    min_vol_pct: Positive
    extreme_move_multiple: NonNegative
    extreme_move_cover_pct: Percent

    def __post_init__(self) -> None:
        """Refuse a scan whose largest move would take the underlying to zero or below."""
        largest = self.price_scan_pct * max(1.0, self.extreme_move_multiple)
        if largest >= 100:
            raise ValueError(
                f"price_scan_pct x extreme_move_multiple must stay below 100 (is {largest})"
            )


class PortfolioConfig(_Section, kw_only=True, frozen=True):
    """Whole-book limits that include the intent under check."""

    max_open_positions: PositiveInt
    max_abs_delta_notional: Positive
    max_abs_vega: Positive


class MonitorConfig(_Section, kw_only=True, frozen=True):
    """Exit rules of the position monitor."""

    stop_loss_long_pct: Percent
    stop_loss_short_pct: Positive
    target_long_pct: Positive
    target_short_pct: Percent
    max_holding_minutes: PositiveInt
    expiry_day_exit: time
    close_retry_seconds: PositiveInt

    @property
    def max_holding_ns(self) -> int:
        """The longest a position may be held, in nanoseconds."""
        return self.max_holding_minutes * NS_PER_MINUTE

    @property
    def close_retry_ns(self) -> int:
        """How long a pending close blocks another close of the same position, in ns."""
        return self.close_retry_seconds * NS_PER_SECOND


class RiskConfig(_Section, kw_only=True, frozen=True):
    """Everything the risk checks and the monitor need besides the market facts."""

    capital: Positive
    max_intent_age_ms: PositiveInt
    segments: SegmentsConfig
    circuit_breaker: CircuitBreakerConfig
    order_rate: OrderRateConfig
    orders: OrdersConfig
    price_band: PriceBandConfig
    margin: MarginConfig
    portfolio: PortfolioConfig
    monitor: MonitorConfig
    release_operators: frozenset[str] = frozenset()
    """Who may release the kill switch (an operator's name as the subject of the command
    proves it: ``control.killswitch.<operator>``, or ``operator`` on the plain subject); empty:
    anyone. A release by someone else is refused and the switch stays engaged."""

    @property
    def max_intent_age_ns(self) -> int:
        """How old an intent may be when it is checked, in nanoseconds."""
        return self.max_intent_age_ms * NS_PER_MS


class RiskConfigError(ValueError):
    """The risk configuration file is missing a key, has an unknown one, or a bad value."""


def parse_risk_config(raw: bytes | str, *, name: str = "risk.toml") -> RiskConfig:
    """A ``RiskConfig`` from TOML text; raises RiskConfigError naming what is wrong."""
    try:
        return msgspec.toml.decode(raw, type=RiskConfig)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise RiskConfigError(f"risk configuration {name}: {exc}") from exc


def load_risk_config(path: Path = DEFAULT_CONFIG_PATH) -> RiskConfig:
    """Read and validate the risk configuration file at ``path``."""
    return parse_risk_config(path.read_bytes(), name=str(path))
