"""A SPAN-style scenario margin for a book of index options (docs/risk.md, "Margin").

Per underlying (on an expiry day, the contracts expiring that day apart from the others when
the rules in force withdraw the calendar-spread benefit): every contract is repriced with
Black-76 on a grid of forward moves (up to plus and minus the price scan range, in equal steps)
crossed with implied-volatility moves (up and down by the vol scan), plus two extreme moves of
which only a fraction of the loss counts. The scan loss is the worst weighted loss of the
contracts scanned together, so long options hedge short ones. Their margin is the larger of the
premium of their long options (when the rules require it upfront) and their scan loss, plus an
exposure margin on their short options (a percent of notional), plus the additional
extreme-loss margin on short options expiring that day. An index future, long or short, is
scanned with them (its price moves one for one with the forward, whatever the vol move, so it
offsets the options' delta) and adds an exposure margin on its notional (quantity x futures
price) at the futures rate. The exchange's rules come dated from
``optbus.margin_rules``; the scenario grid is the service's config. When the exchange's SPAN
file of the day holds a risk array for every contract of a group, the group's scan loss is
SPAN's own (the worst of its sixteen scenarios) instead of the scenario model's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from optbus.events import Contract
from optbus.margin_rules import MarginRules, margin_rules
from optbus.pricing import black76_price
from optbus.quotes import OptionQuote
from optbus.span import SpanFile, SpanKey
from optbus_risk.book import Book, MissingMarketData, describe, quote_or_raise
from optbus_risk.config import MarginConfig
from optbus_risk.quotes import Marks

FloatArray = npt.NDArray[np.float64]

_POINTS = 100.0  # vol points and percents to decimals


@dataclass(frozen=True, slots=True)
class Scenarios:
    """The scan grid: forward factor, vol shift (decimal) and loss weight per scenario."""

    forward_factor: FloatArray
    vol_shift: FloatArray
    weight: FloatArray


@dataclass(frozen=True, slots=True)
class MarginBreakdown:
    """The margin of a book and its parts, in rupees, summed over underlyings."""

    scan_loss: float
    long_premium: float
    exposure: float
    expiry_day_elm: float
    total: float


def scenarios(config: MarginConfig) -> Scenarios:
    """The scan grid of ``config``: (2 steps + 1) moves x vol up/down, plus two extremes."""
    steps = config.price_scan_steps
    scan = config.price_scan_pct / _POINTS
    moves = scan * np.arange(-steps, steps + 1, dtype=np.float64) / steps
    shift = config.vol_scan_points / _POINTS
    shifts = np.array([-shift, shift]) if shift > 0 else np.zeros(1)
    grid_moves = np.repeat(moves, len(shifts))
    grid_shifts = np.tile(shifts, len(moves))
    weights = np.ones(len(grid_moves))
    if config.extreme_move_multiple > 0:
        extreme = scan * config.extreme_move_multiple
        grid_moves = np.concatenate([grid_moves, [-extreme, extreme]])
        grid_shifts = np.concatenate([grid_shifts, [0.0, 0.0]])
        cover = config.extreme_move_cover_pct / _POINTS
        weights = np.concatenate([weights, [cover, cover]])
    return Scenarios(forward_factor=1.0 + grid_moves, vol_shift=grid_shifts, weight=weights)


def margin_required(
    book: Book, marks: Marks, config: MarginConfig, on: date, span: SpanFile | None = None
) -> MarginBreakdown:
    """The margin the book ties up on trading day ``on``, under the exchange's rules of that day
    (and its SPAN file, when ``span`` is the file of that day); raises MissingMarketData when a
    contract cannot be priced."""
    rules = margin_rules(on)
    arrays = span.risk_arrays if span is not None and span.business_date == on else {}
    groups: dict[tuple[str, bool], list[tuple[Contract, int]]] = {}
    for contract, quantity in book.items():
        if quantity:
            expiring_apart = (
                contract.expiry == on and not rules.calendar_spread_benefit_on_expiry_day
            )
            groups.setdefault((contract.underlying, expiring_apart), []).append(
                (contract, quantity)
            )
    grid = scenarios(config)
    parts = [
        _group_margin(held, marks, config, grid, rules, on, arrays) for held in groups.values()
    ]
    return MarginBreakdown(
        scan_loss=sum(p.scan_loss for p in parts),
        long_premium=sum(p.long_premium for p in parts),
        exposure=sum(p.exposure for p in parts),
        expiry_day_elm=sum(p.expiry_day_elm for p in parts),
        total=sum(p.total for p in parts),
    )


def _group_margin(
    held: list[tuple[Contract, int]],
    marks: Marks,
    config: MarginConfig,
    grid: Scenarios,
    rules: MarginRules,
    on: date,
    span_arrays: Mapping[SpanKey, tuple[float, ...]],
) -> MarginBreakdown:
    """The margin of contracts scanned together: one underlying, offsets allowed between them."""
    quotes = [quote_or_raise(marks, contract) for contract, _ in held]
    quantities = np.array([quantity for _, quantity in held], dtype=np.float64)
    futures = np.array([contract.option_type == "FUT" for contract, _ in held])
    premium = 0.0
    if rules.long_premium_upfront:
        for quote, quantity, future in zip(quotes, quantities.tolist(), futures, strict=True):
            if quantity > 0 and not future:
                premium += quantity * _mark(quote)
    shorts = (quantities < 0) & ~futures
    if not (shorts.any() or futures.any()):
        return MarginBreakdown(
            scan_loss=0.0, long_premium=premium, exposure=0.0, expiry_day_elm=0.0, total=premium
        )
    span_loss = _span_scan_loss(held, span_arrays)
    scan_loss = _scan_loss(quotes, quantities, config, grid) if span_loss is None else span_loss
    spots = np.array([quote.spot for quote in quotes])
    short_notional = np.where(shorts, -quantities * spots, 0.0)
    futures_notional = np.where(futures, np.abs(quantities) * [q.forward for q in quotes], 0.0)
    expiring = np.array([contract.expiry == on for contract, _ in held])
    exposure = (
        float(short_notional.sum()) * rules.short_option_exposure_percent / _POINTS
        + float(futures_notional.sum()) * rules.futures_exposure_percent / _POINTS
    )
    expiry_day_elm = (
        float(short_notional[expiring].sum()) * rules.expiry_day_extra_elm_percent / _POINTS
    )
    total = max(premium, scan_loss) + exposure + expiry_day_elm
    return MarginBreakdown(
        scan_loss=scan_loss,
        long_premium=premium,
        exposure=exposure,
        expiry_day_elm=expiry_day_elm,
        total=total,
    )


def _scan_loss(
    quotes: list[OptionQuote], quantities: FloatArray, config: MarginConfig, grid: Scenarios
) -> float:
    """The worst weighted loss of the contracts over the grid (zero when every scenario gains);
    a future is worth its forward in each scenario."""
    forward = np.array([quote.forward for quote in quotes])[:, None]
    moved_forward = forward * grid.forward_factor[None, :]
    now = forward.copy()
    moved = moved_forward.copy()
    options = [i for i, quote in enumerate(quotes) if quote.contract.option_type != "FUT"]
    if options:
        now[options], moved[options] = _option_prices([quotes[i] for i in options], config, grid)
    if not (np.all(np.isfinite(now)) and np.all(np.isfinite(moved))):
        raise MissingMarketData("a contract could not be priced (bad forward, strike or time)")
    losses = -(quantities[:, None] * (moved - now)).sum(axis=0) * grid.weight
    return max(0.0, float(losses.max()))


def _option_prices(
    quotes: list[OptionQuote], config: MarginConfig, grid: Scenarios
) -> tuple[FloatArray, FloatArray]:
    """The options' Black-76 prices now (a column) and in every scenario (a row each)."""
    vols = np.array([_vol(quote) for quote in quotes])[:, None]
    is_call = np.array([quote.contract.option_type == "CE" for quote in quotes])[:, None]
    forward = np.array([quote.forward for quote in quotes])[:, None]
    strike = np.array([quote.contract.strike for quote in quotes])[:, None]
    expiry = np.array([quote.time_to_expiry for quote in quotes])[:, None]
    rate = np.array([quote.rate for quote in quotes])[:, None]
    now = black76_price(is_call, forward, strike, expiry, rate, vols)
    scenario_vols = np.maximum(vols + grid.vol_shift[None, :], config.min_vol_pct / _POINTS)
    moved = black76_price(
        is_call, forward * grid.forward_factor[None, :], strike, expiry, rate, scenario_vols
    )
    return np.asarray(now, dtype=np.float64), np.asarray(moved, dtype=np.float64)


def _span_scan_loss(
    held: list[tuple[Contract, int]], span_arrays: Mapping[SpanKey, tuple[float, ...]]
) -> float | None:
    """SPAN's scan loss of the contracts: the worst of its scenarios of the summed risk arrays
    (zero when every scenario gains); None unless the file holds every contract (a future
    never: the import reads options only)."""
    arrays = []
    for contract, _ in held:
        if contract.option_type == "FUT":
            return None  # optbus reads the options' risk arrays only: the scenario model scans
        array = span_arrays.get(
            (contract.underlying, contract.expiry, contract.strike, contract.option_type)
        )
        if array is None:
            return None
        arrays.append(array)
    quantities = np.array([quantity for _, quantity in held], dtype=np.float64)
    losses = quantities @ np.array(arrays, dtype=np.float64)
    return max(0.0, float(losses.max()))


def _vol(quote: OptionQuote) -> float:
    if quote.iv is None:
        raise MissingMarketData(f"no implied volatility for {describe(quote.contract)}")
    return quote.iv


def _mark(quote: OptionQuote) -> float:
    mark = quote.mark
    if mark is None:
        raise MissingMarketData(f"no price for {describe(quote.contract)}")
    return mark
