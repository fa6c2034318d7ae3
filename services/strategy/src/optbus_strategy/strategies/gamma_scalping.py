"""Gamma scalping: a long straddle where gamma is rich, its delta hedged with index futures.

Entry: the strike, among those where both the call and the put pass the filters (strike
within ``max_strike_distance`` of spot, ``min_abs_delta < |delta| < max_abs_delta``, gamma
above ``min_gamma``, last price above ``min_last_price``, two-sided quote), with the most
gamma; buy ``lots`` of each. Hedging: when the group's net delta (options and futures, in
units of the underlying) leaves the band of ``hedge_band_delta_lots`` lots either side of zero,
trade the index future the chain quotes (``StrategyContext.futures_contract``) against it:
sell futures when long delta, buy when short, as many whole lots as bring the net delta
nearest zero. A whole-lot hedge leaves at most half a lot, so the band is at least half a lot
and the net delta is inside it after every hedge. Selling futures into a rise and buying them
back into a fall is what monetises the straddle's gamma; the options are never traded to
hedge. At most ``max_hedges`` hedges, ``rebalance_cooldown_seconds`` apart. Anchor of the
features: the entry call (a hedge's signal: the call nearest the forward).
"""

from __future__ import annotations

import numpy as np

from optbus.events import OptionType, Side
from optbus_strategy.base import Output, StrategyContext
from optbus_strategy.chainview import ChainView
from optbus_strategy.emit import EntryPlan, PlannedLeg, open_group
from optbus_strategy.groups import Group
from optbus_strategy.lifecycle import GroupStrategy
from optbus_strategy.params import CommonParams, check
from optbus_strategy.selection import BoolArray, quoted

KIND = "gamma_scalping"

MIN_HEDGE_BAND_LOTS = 0.5
"""The narrowest band whole-lot futures hedges can always return the net delta into."""


class GammaScalpingParams(CommonParams, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Gamma scalping's filters and hedging (see the module docstring)."""

    max_strike_distance: float = 0.05
    min_abs_delta: float = 0.3
    max_abs_delta: float = 0.7
    min_gamma: float = 0.001
    min_last_price: float = 50.0
    hedge_band_delta_lots: float = 0.5
    max_hedges: int = 20
    rebalance_cooldown_seconds: float = 120.0
    target_profit: float = 0.3
    stop_loss: float = 0.3
    max_days_to_expiry: float = 7.0
    exit_minutes_before_close: float = 15.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.max_strike_distance > 0, "max_strike_distance must be positive")
        check(
            0 <= self.min_abs_delta < self.max_abs_delta <= 1,
            "need 0 <= min_abs_delta < max_abs_delta <= 1",
        )
        check(self.min_gamma >= 0 and self.min_last_price >= 0, "floors must not be negative")
        check(
            self.hedge_band_delta_lots >= MIN_HEDGE_BAND_LOTS,
            f"hedge_band_delta_lots must be at least {MIN_HEDGE_BAND_LOTS} (whole-lot hedges)",
        )
        check(self.max_hedges >= 0, "max_hedges must not be negative")


def passes_filters(view: ChainView, option_type: OptionType, p: GammaScalpingParams) -> BoolArray:
    """The options gamma scalping may trade (every filter of the module docstring)."""
    side = view.side(option_type)
    abs_delta = np.abs(side.delta)
    near = np.abs(view.strikes - view.spot) <= p.max_strike_distance * view.spot
    with np.errstate(invalid="ignore"):
        delta_ok = (abs_delta > p.min_abs_delta) & (abs_delta < p.max_abs_delta)
        gamma_ok = side.gamma > p.min_gamma
    result: BoolArray = near & delta_ok & gamma_ok & (side.last > p.min_last_price)
    return result & quoted(view, option_type)


def hedge_lots(net_delta: float, lot_size: int) -> int:
    """The whole lots of futures to buy (positive) or sell (negative) that bring ``net_delta``
    (units) nearest zero."""
    return -round(net_delta / lot_size)


class GammaScalping(GroupStrategy[GammaScalpingParams]):
    """Long straddle on the richest-gamma strike that passes the filters, hedged by futures."""

    def plan_entry(self, ctx: StrategyContext) -> EntryPlan | None:
        """Buy the call and the put of the best strike, if any strike passes for both."""
        view, p = ctx.view, self.params
        calls = passes_filters(view, "CE", p)
        if not calls.any():
            return None  # no strike can pass for both sides
        both = calls & passes_filters(view, "PE", p)
        if not both.any():
            return None
        gamma = np.where(both, view.calls.gamma + view.puts.gamma, -np.inf)
        index = int(np.argmax(gamma))
        call, put = view.contract(index, "CE"), view.contract(index, "PE")
        richness = min(1.0, float(view.calls.gamma[index]) / (2 * p.min_gamma or 1.0))
        strength = 0.5 * richness + 0.5 * (1.0 - ctx.iv_percentile())
        return EntryPlan(
            legs=(PlannedLeg(call, "BUY", p.lots), PlannedLeg(put, "BUY", p.lots)),
            anchor=call,
            strength=strength,
            reason=f"gamma {float(view.calls.gamma[index]):.6f} at strike {call.strike:g}",
        )

    def adjust(self, group: Group, ctx: StrategyContext) -> list[Output]:
        """Trade futures against the net delta when it leaves the band."""
        p = self.params
        net = group.net_delta(ctx.view)
        lot = ctx.spec.lot_size
        cooldown_ns = int(p.rebalance_cooldown_seconds * 1_000_000_000)
        if (
            net is None
            or abs(net) <= p.hedge_band_delta_lots * lot
            or group.adjustments >= p.max_hedges
            or ctx.ts_ns - group.last_adjust_ns < cooldown_ns
        ):
            return []
        plan = self._hedge_plan(ctx, net)
        if plan is None:
            return []
        role = f"hedge-{group.adjustments + 1}"
        opening = open_group(
            ctx, (self.name, self.kind), plan, p, role=role, group_id=group.group_id
        )
        if opening is None:
            return []
        group.adjustments += 1
        group.last_adjust_ns = ctx.ts_ns
        self.book.expect(group, opening.intent)
        return [opening.signal, opening.intent]

    def _hedge_plan(self, ctx: StrategyContext, net_delta: float) -> EntryPlan | None:
        future = ctx.futures_contract
        lots = hedge_lots(net_delta, ctx.spec.lot_size)
        if future is None or lots == 0:
            return None
        side: Side = "BUY" if lots > 0 else "SELL"
        band = self.params.hedge_band_delta_lots * ctx.spec.lot_size
        return EntryPlan(
            legs=(PlannedLeg(future, side, abs(lots)),),
            anchor=ctx.view.contract(ctx.view.atm_index(), "CE"),
            strength=min(1.0, abs(net_delta) / (2 * band)),
            reason=f"delta hedge: net delta {net_delta:+.1f} units, {side} {abs(lots)} lots",
        )
