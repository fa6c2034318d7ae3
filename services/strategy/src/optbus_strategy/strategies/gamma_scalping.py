"""Gamma scalping with options only: a long straddle where gamma is rich, kept delta-neutral.

Entry: the strike, among those where both the call and the put pass the filters (strike
within ``max_strike_distance`` of spot, ``min_abs_delta < |delta| < max_abs_delta``, gamma
above ``min_gamma``, last price above ``min_last_price``, two-sided quote), with the most
gamma; buy ``lots`` of each. The put is the offsetting option leg, so the entry is close to
delta-neutral. Hedging: we trade options only, so when the group's net delta passes
``rebalance_delta_lots`` lots of the underlying we *buy* ``hedge_lots`` of the option that
offsets it (a put when long delta, a call when short), chosen among those passing the same
filters with the delta nearest the offset needed. Buying keeps the position long gamma,
which is the point; selling back the winning leg would shrink it. At most ``max_hedges``
hedges, ``rebalance_cooldown_seconds`` apart. Anchor of the features: the entry call.
"""

from __future__ import annotations

import numpy as np

from optbus.events import OptionType
from optbus_strategy.base import Output, StrategyContext
from optbus_strategy.chainview import ChainView
from optbus_strategy.emit import EntryPlan, PlannedLeg, open_group
from optbus_strategy.groups import Group
from optbus_strategy.lifecycle import GroupStrategy
from optbus_strategy.params import CommonParams, check
from optbus_strategy.selection import BoolArray, quoted

KIND = "gamma_scalping"


class GammaScalpingParams(CommonParams, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Gamma scalping's filters and hedging (see the module docstring)."""

    max_strike_distance: float = 0.05
    min_abs_delta: float = 0.3
    max_abs_delta: float = 0.7
    min_gamma: float = 0.0005
    min_last_price: float = 50.0
    rebalance_delta_lots: float = 0.5
    hedge_lots: int = 1
    max_hedges: int = 3
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
        check(self.rebalance_delta_lots > 0, "rebalance_delta_lots must be positive")
        check(self.hedge_lots >= 1 and self.max_hedges >= 0, "hedge_lots >= 1, max_hedges >= 0")


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


class GammaScalping(GroupStrategy[GammaScalpingParams]):
    """Long straddle on the richest-gamma strike that passes the filters, hedged by options."""

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
        """Buy the offsetting option when the net delta leaves the band."""
        p = self.params
        net = group.net_delta(ctx.view)
        lot = ctx.spec.lot_size
        cooldown_ns = int(p.rebalance_cooldown_seconds * 1_000_000_000)
        if (
            net is None
            or abs(net) <= p.rebalance_delta_lots * lot
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
        p, view = self.params, ctx.view
        option_type: OptionType = "PE" if net_delta > 0 else "CE"
        mask = passes_filters(view, option_type, p)
        if not mask.any():
            return None
        wanted = abs(net_delta) / (p.hedge_lots * ctx.spec.lot_size)
        candidates = np.flatnonzero(mask)
        deltas = np.abs(view.side(option_type).delta[candidates])
        index = int(candidates[int(np.argmin(np.abs(deltas - wanted)))])
        contract = view.contract(index, option_type)
        strength = min(1.0, abs(net_delta) / (2 * p.rebalance_delta_lots * ctx.spec.lot_size))
        return EntryPlan(
            legs=(PlannedLeg(contract, "BUY", p.hedge_lots),),
            anchor=contract,
            strength=strength,
            reason=f"delta hedge: net delta {net_delta:+.1f} units",
        )
