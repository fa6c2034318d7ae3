"""The whole NSE F&O segment as simulator underlyings: every index and stock with a contract.

NIFTY and BANKNIFTY keep their presets (``config.NIFTY``, ``config.BANKNIFTY``); every other
underlying starts from its dated reference level (``optbus.market.load_reference_prices``) with
monthly expiries only, as NSE lists them. Indices and stocks get the stylised spot and quoting
parameters of their kind: stocks are more volatile, jumpier and far less traded per strike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from optbus.market import MarketFacts
from optbus_market_data.simulator.config import (
    BANKNIFTY,
    NIFTY,
    SimulatorConfig,
    SpotModel,
    UnderlyingConfig,
)

INDICES = ("NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "NIFTYNXT50")
"""The index underlyings of NSE's F&O segment; every other underlying with a contract is a stock."""

_PRESETS = {preset.name: preset for preset in (NIFTY, BANKNIFTY)}
_STOCK_MARKET_CORRELATION = 0.4
"""How much of a day's shock the segment shares: a stock moves with the market far less than
NIFTY and BANKNIFTY move together (the default 0.8)."""


def universe_underlyings(
    facts: MarketFacts,
    reference_levels: Mapping[str, float],
    on: date,
    *,
    monthly_expiries: int = 3,
    strikes_per_side: int = 22,
) -> tuple[UnderlyingConfig, ...]:
    """Every underlying with a contract in force on ``on``: the indices first, then the stocks
    in name order, each with ``monthly_expiries`` monthly chains of ``2 * strikes_per_side + 1``
    strikes (NIFTY and BANKNIFTY as their presets)."""
    names = facts.underlyings(on)
    missing = sorted(set(names) - set(reference_levels) - set(_PRESETS))
    if missing:
        raise ValueError(f"no reference level for {', '.join(missing)}")
    indices = [name for name in INDICES if name in names]
    stocks = sorted(set(names) - set(INDICES))
    return tuple(
        _PRESETS.get(name)
        or _underlying(name, reference_levels[name], name in INDICES, monthly_expiries,
                       strikes_per_side)
        for name in (*indices, *stocks)
    )  # fmt: skip


def universe_config(
    facts: MarketFacts,
    reference_levels: Mapping[str, float],
    *,
    seed: int,
    run_id: str,
    start_date: date,
    days: int = 1,
    strikes_per_side: int = 22,
) -> SimulatorConfig:
    """A simulation of the whole segment: every underlying in force on the first session, with
    the segment's looser market correlation. The default strikes make about 60,000 options a
    snapshot second (3 monthly chains of 45 strikes, calls and puts, for each of ~220 stocks)."""
    underlyings = universe_underlyings(
        facts, reference_levels, facts.trading_day_from(start_date),
        strikes_per_side=strikes_per_side,
    )  # fmt: skip
    return SimulatorConfig(
        seed=seed,
        run_id=run_id,
        start_date=start_date,
        days=days,
        underlyings=underlyings,
        market_correlation=_STOCK_MARKET_CORRELATION,
    )


def _underlying(
    name: str, level: float, is_index: bool, monthly_expiries: int, strikes_per_side: int
) -> UnderlyingConfig:
    if is_index:
        return UnderlyingConfig(
            name=name,
            spot=SpotModel(initial_spot=level, initial_vol=0.14, long_run_vol=0.15),
            monthly_expiries=monthly_expiries,
            strikes_per_side=strikes_per_side,
            dividend_yield=0.012,
            trade_rate_lots_per_second=2.0,
            touch_depth_lots=15.0,
            open_interest_lots=300_000.0,
        )
    return UnderlyingConfig(
        name=name,
        spot=SpotModel(
            initial_spot=level,
            initial_vol=0.28,
            long_run_vol=0.30,
            vol_of_vol=0.8,
            spot_vol_correlation=-0.4,
            jump_intensity=12.0,
            jump_mean=-0.003,
            jump_std=0.02,
        ),
        monthly_expiries=monthly_expiries,
        strikes_per_side=strikes_per_side,
        dividend_yield=0.01,
        trade_rate_lots_per_second=0.3,
        touch_depth_lots=5.0,
        open_interest_lots=20_000.0,
    )
