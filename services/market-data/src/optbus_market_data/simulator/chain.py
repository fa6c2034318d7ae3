"""Chain assembly: one underlying and expiry priced, quoted and traded over a block of steps.

A chain keeps a small book between blocks and sessions (open interest, last prices, today's
volume, its random stream); a block of steps is computed at once with numpy and then cut into
one ``OptionChainSnapshot`` per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

from optbus.events import ChainSide, OptionChainSnapshot
from optbus.pricing import black76_price, time_to_expiry_years
from optbus_market_data.simulator import quoting, surface
from optbus_market_data.simulator.config import QuotingModel, SurfaceModel, UnderlyingConfig
from optbus_market_data.simulator.spot import TRADING_DAYS_PER_YEAR

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """What is fixed about a chain for one session: its contract, strikes and calendar."""

    underlying: UnderlyingConfig
    column: int
    expiry: date
    expiry_close_ns: int
    futures_close_ns: int
    lot_size: int
    tick: float
    strike_step: float
    strike_index: IntArray
    sessions_after_today: int

    @property
    def strikes(self) -> FloatArray:
        """Strike prices in rupees, ascending."""
        return self.strike_index.astype(np.float64) * self.strike_step


def session_strikes(window: IntArray, listed: IntArray) -> IntArray:
    """A session's strike indices, ascending: today's window around the money plus every strike
    already listed for the expiry (an exchange never delists a strike of a live expiry)."""
    return np.union1d(window, listed)


@dataclass(slots=True)
class ChainBook:
    """What a chain remembers from step to step: open interest, last prices, volume."""

    rng: np.random.Generator
    strike_index: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    open_interest_lots: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    last: FloatArray = field(default_factory=lambda: np.zeros(0))
    volume_lots: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def open_session(
        self, spec: ChainSpec, model: QuotingModel, atm_index: int, tenor_days: float
    ) -> None:
        """List today's strikes, keep what is known of those listed before, reset volume."""
        new_index = spec.strike_index
        both = np.concatenate([new_index, new_index])
        is_call = np.repeat([True, False], len(new_index))
        old_keys = dict(zip(self._keys(), range(2 * len(self.strike_index)), strict=True))
        fresh_oi = quoting.initial_open_interest(
            model, spec.underlying, both - atm_index, both, is_call, tenor_days, self.rng
        )
        oi = fresh_oi.copy()
        last = np.full(len(both), np.nan)
        for pos, key in enumerate(zip(both.tolist(), is_call.tolist(), strict=True)):
            old = old_keys.get(key)
            if old is not None:
                oi[pos] = self.open_interest_lots[old]
                last[pos] = self.last[old]
        self.strike_index = new_index
        self.open_interest_lots = oi
        self.last = last
        self.volume_lots = np.zeros(len(both), dtype=np.int64)

    def _keys(self) -> list[tuple[int, bool]]:
        n = len(self.strike_index)
        return list(
            zip(
                np.concatenate([self.strike_index, self.strike_index]).tolist(),
                [True] * n + [False] * n,
                strict=True,
            )
        )


@dataclass(frozen=True, slots=True)
class StepInputs:
    """Per-step inputs shared by every chain of a block (arrays of shape (B,))."""

    ts_ns: IntArray
    remaining_session: FloatArray
    activity: FloatArray
    spot: FloatArray
    variance: FloatArray


@dataclass(frozen=True, slots=True)
class SideLists:
    """One side of a block of steps as Python lists, one row per step."""

    bid: list[list[float]]
    ask: list[list[float]]
    last: list[list[float]]
    bid_size: list[list[int]]
    ask_size: list[list[int]]
    volume: list[list[int]]
    open_interest: list[list[int]]

    def row(self, i: int) -> ChainSide:
        """The event payload of step ``i``."""
        return ChainSide(
            bid=self.bid[i],
            ask=self.ask[i],
            last=self.last[i],
            bid_size=self.bid_size[i],
            ask_size=self.ask_size[i],
            volume=self.volume[i],
            open_interest=self.open_interest[i],
        )


@dataclass(frozen=True, slots=True)
class ChainBlock:
    """A block of steps of one chain as Python lists, ready to become events."""

    spot: list[float]
    futures: list[float]
    calls: SideLists
    puts: SideLists


@dataclass(frozen=True, slots=True)
class PricingContext:
    """The model parameters a chain block needs besides its own spec and book."""

    surface: SurfaceModel
    quoting: QuotingModel
    rate: float
    overnight_share: float
    step_seconds: float


@dataclass(frozen=True, slots=True)
class _Priced:
    mid: FloatArray
    otm: FloatArray
    tenor_days: FloatArray
    futures: FloatArray


def _model_prices(spec: ChainSpec, ctx: PricingContext, steps: StepInputs) -> _Priced:
    """Model mid prices (calls then puts) of every step, with the moneyness that shapes quotes."""
    n = len(spec.strike_index)
    strikes = np.concatenate([spec.strikes, spec.strikes])
    is_call = np.repeat([True, False], n)
    carry = ctx.rate - spec.underlying.dividend_yield
    tenor = (
        (1.0 - ctx.overnight_share) * steps.remaining_session + spec.sessions_after_today
    ) / TRADING_DAYS_PER_YEAR
    t_cal = np.asarray(time_to_expiry_years(steps.ts_ns, spec.expiry_close_ns), dtype=np.float64)
    t_fut = np.asarray(time_to_expiry_years(steps.ts_ns, spec.futures_close_ns), dtype=np.float64)
    forward = steps.spot * np.exp(carry * t_cal)
    log_moneyness = np.log(strikes[None, :] / forward[:, None])
    total, y = surface.total_variance(
        ctx.surface, spec.underlying.spot, steps.variance, tenor, log_moneyness
    )
    vol = surface.calendar_vol(total, t_cal[:, None])
    mid = black76_price(is_call, forward[:, None], strikes, t_cal[:, None], ctx.rate, vol)
    return _Priced(
        mid=mid,
        otm=np.where(is_call, y, -y),
        tenor_days=np.broadcast_to((tenor * TRADING_DAYS_PER_YEAR)[:, None], mid.shape),
        futures=quoting.round_to_tick(steps.spot * np.exp(carry * t_fut), spec.tick),
    )


def simulate_block(
    spec: ChainSpec, book: ChainBook, ctx: PricingContext, steps: StepInputs
) -> ChainBlock:
    """Price, quote and trade one chain over a block of steps; advances the book."""
    priced = _model_prices(spec, ctx, steps)
    rng, tick, u = book.rng, spec.tick, spec.underlying
    otm, days = priced.otm, priced.tenor_days
    quotes = quoting.quote(ctx.quoting, priced.mid, otm, days, tick, u.touch_depth_lots, rng)
    lots = quoting.traded_lots(ctx.quoting, u, otm, days, steps.activity, ctx.step_seconds, rng)
    # An option new to the book starts from its model price, as if that were the last close.
    opening = quoting.round_to_tick(np.maximum(priced.mid[0], tick), tick)
    last = quoting.last_prices(np.where(np.isnan(book.last), opening, book.last), lots, quotes, rng)
    oi = quoting.open_interest_path(ctx.quoting, book.open_interest_lots, lots, days, rng)
    volume = book.volume_lots[None, :] + np.cumsum(lots, axis=0)
    book.last, book.open_interest_lots, book.volume_lots = last[-1], oi[-1], volume[-1]
    columns = (
        quotes.bid,
        quotes.ask,
        last,
        quotes.bid_lots * spec.lot_size,
        quotes.ask_lots * spec.lot_size,
        volume * spec.lot_size,
        oi * spec.lot_size,
    )
    n = len(spec.strike_index)
    return ChainBlock(
        spot=np.round(steps.spot, 2).tolist(),
        futures=priced.futures.tolist(),
        calls=SideLists(*(values[:, :n].tolist() for values in columns)),
        puts=SideLists(*(values[:, n:].tolist() for values in columns)),
    )


def snapshot(
    spec: ChainSpec,
    block: ChainBlock,
    row: int,
    *,
    event_id: str,
    ts_event: int,
    ts_init: int,
    strikes: list[float],
) -> OptionChainSnapshot:
    """The event of one step of a computed block."""
    return OptionChainSnapshot(
        event_id=event_id,
        ts_event=ts_event,
        ts_init=ts_init,
        underlying=spec.underlying.name,
        expiry=spec.expiry,
        spot=block.spot[row],
        futures=block.futures[row],
        lot_size=spec.lot_size,
        strikes=list(strikes),
        calls=block.calls.row(row),
        puts=block.puts.row(row),
    )
