"""Configuration of the chain simulator: what to simulate and the model's parameters.

Every parameter is a frozen msgspec Struct so that a composition root can build it from
settings or JSON and a run can be recorded with the exact configuration that produced it.
Model parameters are stylised (chosen to look like NSE index options), not market facts:
the facts (lots, steps, expiries, hours, holidays) come from ``optbus.market``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec


class SpotModel(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One index's spot: stochastic variance (Heston-like) with occasional jumps.

    Volatilities are annualised in trading time (252 sessions a year); intensities per year.
    """

    initial_spot: float
    initial_vol: float = 0.11
    long_run_vol: float = 0.12
    mean_reversion: float = 6.0
    vol_of_vol: float = 0.6
    spot_vol_correlation: float = -0.7
    jump_intensity: float = 25.0
    jump_mean: float = -0.002
    jump_std: float = 0.006
    jump_variance_kick: float = 0.5
    min_vol: float = 0.05


class UnderlyingConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One index to simulate: which expiries, how many strikes, and its market's liveliness."""

    name: str
    spot: SpotModel
    weekly_expiries: int = 0
    monthly_expiries: int = 1
    strikes_per_side: int = 25
    dividend_yield: float = 0.012
    trade_rate_lots_per_second: float = 5.0
    touch_depth_lots: float = 30.0
    open_interest_lots: float = 1_500_000.0


class SurfaceModel(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The implied-volatility surface: level from expected variance, smile by moneyness."""

    variance_risk_premium: float = 1.05
    realised_weight: float = 0.2
    realised_halflife_days: float = 1.0
    skew: float = -0.20
    smile: float = 0.10
    wing_saturation: float = 2.5
    short_tenor_smile_boost: float = 0.3
    short_tenor_days: float = 2.0


class QuotingModel(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How market makers quote: spread in ticks and premium, widening, depth and trading."""

    spread_ticks: float = 1.0
    spread_premium_share: float = 0.001
    spread_moneyness_widening: float = 0.25
    spread_expiry_widening: float = 1.0
    spread_expiry_days: float = 1.0
    spread_jitter: float = 0.25
    depth_decay_per_std: float = 0.35
    trade_peak_moneyness: float = 0.3
    trade_moneyness_width: float = 1.2
    trade_tenor_days: float = 2.0
    open_probability: float = 0.50
    close_probability: float = 0.48
    close_probability_expiry_boost: float = 0.10
    round_strike_every: int = 10
    round_strike_open_interest_boost: float = 1.8


NIFTY = UnderlyingConfig(
    name="NIFTY",
    spot=SpotModel(initial_spot=26_000.0),
    weekly_expiries=2,
    monthly_expiries=1,
    strikes_per_side=30,
    dividend_yield=0.012,
    trade_rate_lots_per_second=20.0,
    touch_depth_lots=40.0,
    open_interest_lots=4_000_000.0,
)

BANKNIFTY = UnderlyingConfig(
    name="BANKNIFTY",
    spot=SpotModel(initial_spot=59_000.0, initial_vol=0.13, long_run_vol=0.14),
    weekly_expiries=0,
    monthly_expiries=1,
    strikes_per_side=25,
    dividend_yield=0.008,
    trade_rate_lots_per_second=5.0,
    touch_depth_lots=25.0,
    open_interest_lots=1_500_000.0,
)


class EventVolatility(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How much a scheduled event raises the day's volatility, a multiple per kind of event.

    The days are market facts (``optbus.event_calendar``); the multiples are stylised. On a
    day with several events the largest multiple applies.
    """

    rbi_policy: float = 1.25
    union_budget: float = 1.6
    election_result: float = 1.8
    index_rebalance: float = 1.1

    def __post_init__(self) -> None:
        for kind in self.__struct_fields__:
            if not getattr(self, kind) > 0:
                raise ValueError(f"event volatility multiple {kind} must be positive")

    def multiple(self, kinds: Sequence[str]) -> float:
        """The volatility multiple of a day with events of ``kinds`` (1 for none)."""
        return max((float(getattr(self, kind)) for kind in kinds), default=1.0)


class SimulatorConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One simulated run: seed and run id, dates, step, underlyings and model parameters.

    ``run_id`` goes into every event id, so two runs never collide in JetStream's dedupe;
    ``days`` counts trading days from ``start_date`` (or the first trading day after it).
    """

    seed: int = 0
    run_id: str = "sim"
    start_date: date = date(2026, 6, 1)
    days: int = 1
    step_seconds: float = 1.0
    underlyings: tuple[UnderlyingConfig, ...] = (NIFTY, BANKNIFTY)
    market_correlation: float = 0.8
    overnight_variance_share: float = 0.2
    vix_index: str = "INDIAVIX"
    vix_underlying: str = "NIFTY"
    block_steps: int = 256
    surface: SurfaceModel = SurfaceModel()
    quoting: QuotingModel = QuotingModel()
    event_volatility: EventVolatility = EventVolatility()

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"days must be at least 1, got {self.days}")
        if not self.step_seconds > 0:
            raise ValueError(f"step_seconds must be positive, got {self.step_seconds}")
        if not self.underlyings:
            raise ValueError("at least one underlying is needed")
        if self.vix_underlying not in {u.name for u in self.underlyings}:
            raise ValueError(f"vix_underlying {self.vix_underlying!r} is not simulated")
        if self.block_steps < 1:
            raise ValueError(f"block_steps must be at least 1, got {self.block_steps}")
