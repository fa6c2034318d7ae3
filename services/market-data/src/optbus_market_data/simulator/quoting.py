"""Quotes and trading activity around a model price: spreads, depth, volume, OI, last price.

Everything works on blocks of shape (steps, options) with the calls' and puts' columns side
by side. ``otm`` is standardised moneyness signed so that positive means out of the money for
either side; ``tenor_days`` is variance time to expiry in trading days.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from optbus_market_data.simulator.config import QuotingModel, UnderlyingConfig

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Rounding slack so that a mid already on the grid is not pushed a whole tick outwards.
_GRID_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Quotes:
    """Best bid and offer per step and option: prices in rupees, sizes in lots."""

    bid: FloatArray
    ask: FloatArray
    bid_lots: IntArray
    ask_lots: IntArray


def tick_decimals(tick: float) -> int:
    """How many decimals a price on this tick grid has (0.05 -> 2)."""
    exponent = Decimal(str(tick)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def ticks_to_price(ticks: IntArray, tick: float) -> FloatArray:
    """Prices from integer tick counts, as the float nearest the decimal price."""
    return np.round(ticks * tick, tick_decimals(tick))


def round_to_tick(price: FloatArray, tick: float) -> FloatArray:
    """Prices rounded to the nearest tick."""
    return ticks_to_price(np.rint(price / tick).astype(np.int64), tick)


def quote(
    model: QuotingModel,
    mid: FloatArray,
    otm: FloatArray,
    tenor_days: FloatArray,
    tick: float,
    depth_lots: float,
    rng: np.random.Generator,
) -> Quotes:
    """Bid and ask around ``mid`` on the tick grid: never crossed, never negative.

    The spread is a tick plus a share of the premium, widened away from the money and in the
    last day or so of an option's life, with a little noise. A bid that would round to zero
    is no bid at all (price and size 0); the offer is always at least one tick.
    """
    base = model.spread_ticks * tick + model.spread_premium_share * mid
    widen_moneyness = 1.0 + model.spread_moneyness_widening * np.abs(otm)
    near_expiry = np.exp(-tenor_days / model.spread_expiry_days)
    widen_expiry = 1.0 + model.spread_expiry_widening * near_expiry
    jitter = np.exp(model.spread_jitter * rng.standard_normal(mid.shape))
    half = 0.5 * base * widen_moneyness * widen_expiry * jitter
    # Sellers of near-worthless options compete down to the first tick: no spread wider than
    # the premium itself.
    half = np.minimum(half, np.maximum(0.5 * tick, mid))
    bid_ticks = np.floor((mid - half) / tick + _GRID_EPS).astype(np.int64)
    ask_ticks = np.ceil((mid + half) / tick - _GRID_EPS).astype(np.int64)
    bid_ticks = np.maximum(bid_ticks, 0)
    ask_ticks = np.maximum(ask_ticks, np.maximum(bid_ticks + 1, 1))
    mean_depth = depth_lots * np.exp(-model.depth_decay_per_std * np.abs(otm))
    bid_lots = np.where(bid_ticks > 0, 1 + rng.poisson(mean_depth), 0)
    ask_lots = 1 + rng.poisson(mean_depth)
    return Quotes(
        bid=ticks_to_price(bid_ticks, tick),
        ask=ticks_to_price(ask_ticks, tick),
        bid_lots=bid_lots.astype(np.int64),
        ask_lots=ask_lots.astype(np.int64),
    )


def traded_lots(
    model: QuotingModel,
    underlying: UnderlyingConfig,
    otm: FloatArray,
    tenor_days: FloatArray,
    activity: FloatArray,
    step_seconds: float,
    rng: np.random.Generator,
) -> IntArray:
    """Lots traded per step and option: most just out of the money and in the nearest expiry.

    ``activity`` (per step) carries the intraday pattern and bursts after large moves.
    """
    distance = (otm - model.trade_peak_moneyness) / model.trade_moneyness_width
    moneyness_weight = np.exp(-0.5 * distance * distance)
    tenor_weight = 1.0 / (1.0 + tenor_days / model.trade_tenor_days)
    rate = underlying.trade_rate_lots_per_second * step_seconds
    lam = rate * moneyness_weight * tenor_weight * activity[:, None]
    return rng.poisson(lam).astype(np.int64)


def open_interest_path(
    model: QuotingModel,
    start_lots: IntArray,
    lots: IntArray,
    tenor_days: FloatArray,
    rng: np.random.Generator,
) -> IntArray:
    """Open interest (lots) after each step: each traded lot may open or close a position.

    Closing gets likelier as expiry nears, so open interest builds early and unwinds late.
    """
    close_p = model.close_probability + model.close_probability_expiry_boost * np.exp(-tenor_days)
    close_p = np.broadcast_to(np.minimum(close_p, 1.0), lots.shape)
    opened = rng.binomial(lots, model.open_probability)
    closed = rng.binomial(lots, close_p)
    path = start_lots[None, :] + np.cumsum(opened - closed, axis=0)
    return np.maximum(path, 0).astype(np.int64)


def last_prices(
    start: FloatArray, lots: IntArray, quotes: Quotes, rng: np.random.Generator
) -> FloatArray:
    """Last traded price after each step: a trade lifts the offer or hits the bid.

    Where nothing traded the last price stays what it was.
    """
    buyer_initiated = (rng.random(lots.shape) < 0.5) | (quotes.bid <= 0.0)
    trade_price = np.where(buyer_initiated, quotes.ask, quotes.bid)
    traded = lots > 0
    n_steps = lots.shape[0]
    step_index = np.where(traded, np.arange(n_steps)[:, None], -1)
    latest = np.maximum.accumulate(step_index, axis=0)
    filled = np.take_along_axis(trade_price, np.maximum(latest, 0), axis=0)
    return np.where(latest >= 0, filled, start[None, :])


def initial_open_interest(
    model: QuotingModel,
    underlying: UnderlyingConfig,
    strike_steps_from_atm: IntArray,
    strike_index: IntArray,
    is_call: NDArray[np.bool_],
    tenor_days: float,
    rng: np.random.Generator,
) -> IntArray:
    """Open interest (lots) of options new to the simulation: built up out of the money.

    Calls gather above the spot and puts below, round strikes draw extra interest, and
    longer-dated contracts have had more time to build.
    """
    otm_steps = np.where(is_call, strike_steps_from_atm, -strike_steps_from_atm)
    profile = np.exp(-0.5 * ((otm_steps - 4.0) / 8.0) ** 2) + 0.05
    round_bonus = np.where(
        strike_index % model.round_strike_every == 0, model.round_strike_open_interest_boost, 1.0
    )
    maturity = 0.3 + 0.7 * (1.0 - np.exp(-tenor_days / 5.0))
    noise = rng.lognormal(0.0, 0.3, size=otm_steps.shape)
    per_strike = underlying.open_interest_lots / (2 * underlying.strikes_per_side + 1)
    lots: IntArray = np.rint(per_strike * profile * round_bonus * maturity * noise).astype(np.int64)
    return lots


def intraday_activity(n_steps: int, abs_shock: FloatArray) -> FloatArray:
    """Trading activity per step: U-shaped over the session, with bursts after big moves.

    ``abs_shock`` is the size of each step's standardised spot shock (mean about 0.8).
    """
    u = (np.arange(n_steps) + 0.5) / n_steps
    profile = 1.0 + 1.5 * np.exp(-u / 0.08) + 1.0 * np.exp(-(1.0 - u) / 0.08)
    return profile / float(np.mean(profile)) * (0.5 + 0.6 * abs_shock)
