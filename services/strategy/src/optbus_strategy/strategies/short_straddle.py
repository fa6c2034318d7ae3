"""Short straddle: sell the call and the put at the money, re-centre when the market moves off.

Entry: when the ATM IV percentile is at least ``min_iv_percentile``, sell ``lots`` of the
call and of the put at the strike nearest the forward, each with a bid of at least
``min_premium`` rupees. Adjustment (re-centring): when the forward has moved more than
``recenter_steps`` strike steps from the straddle's strike (0 turns this off), or the group's
net delta passes ``max_net_delta`` times the units sold on one side, both short legs are
closed and the straddle is sold again at the strike now nearest the forward, in the same
group; at most ``max_adjustments`` times, ``adjust_cooldown_seconds`` apart. Exits (common):
target profit and stop loss as fractions of the credit of the legs held,
``exit_minutes_before_expiry`` and ``exit_minutes_before_close``.
Strength: the mean of the IV percentile and of min(1, credit / (``rich_credit_fraction`` of
the forward)). Anchor of the features: the call.
"""

from __future__ import annotations

from optbus_strategy.base import Output, StrategyContext
from optbus_strategy.emit import EntryPlan, PlannedLeg
from optbus_strategy.groups import Group
from optbus_strategy.lifecycle import GroupStrategy
from optbus_strategy.params import CommonParams, check
from optbus_strategy.selection import touch_credit
from optbus_strategy.strategies.short_strangle import delta_beyond, short_positions

KIND = "short_straddle"


class ShortStraddleParams(CommonParams, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Short straddle's entry filter and re-centring (see the module docstring)."""

    min_iv_percentile: float = 0.5
    min_premium: float = 20.0
    rich_credit_fraction: float = 0.01
    recenter_steps: int = 2
    max_net_delta: float = 0.3
    max_adjustments: int = 2
    adjust_cooldown_seconds: float = 300.0
    min_days_to_expiry: float = 0.5
    exit_minutes_before_expiry: float = 60.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check(0 <= self.min_iv_percentile <= 1, "min_iv_percentile must be between 0 and 1")
        check(self.min_premium >= 0, "min_premium must not be negative")
        check(self.rich_credit_fraction > 0, "rich_credit_fraction must be positive")
        check(self.recenter_steps >= 0, "recenter_steps must not be negative")
        check(self.max_net_delta > 0, "max_net_delta must be positive")
        check(self.max_adjustments >= 0, "max_adjustments must not be negative")


class ShortStraddle(GroupStrategy[ShortStraddleParams]):
    """Sells the ATM straddle when implied volatility is rich and keeps it centred."""

    def plan_entry(self, ctx: StrategyContext) -> EntryPlan | None:
        """Sell the ATM call and put when the IV percentile is high and both bids are worth it."""
        ivp = ctx.iv_percentile()
        if ivp < self.params.min_iv_percentile:
            return None
        return self._straddle(ctx, ivp, "straddle")

    def adjust(self, group: Group, ctx: StrategyContext) -> list[Output]:
        """Re-centre when the forward has left the strike or the net delta has left its band."""
        p = self.params
        shorts = short_positions(group)
        if not shorts or not self.may_adjust(
            group, ctx, p.max_adjustments, p.adjust_cooldown_seconds
        ):
            return []
        strike = shorts[0].contract.strike
        moved = abs(ctx.view.forward - strike) / ctx.spec.strike_step
        off_centre = p.recenter_steps > 0 and moved > p.recenter_steps
        if not off_centre and delta_beyond(group, ctx, p.max_net_delta) is None:
            return []
        index = ctx.view.atm_index()
        if float(ctx.view.strikes[index]) == strike:
            return []  # the market is back at the strike: nothing to re-centre on
        plan = self._straddle(
            ctx, min(1.0, moved / (2 * max(p.recenter_steps, 1))), f"re-centre from {strike:g}"
        )
        return [] if plan is None else self.roll(group, ctx, shorts, plan)

    def _straddle(self, ctx: StrategyContext, strength: float, why: str) -> EntryPlan | None:
        """Sell the call and the put nearest the forward, each bid at least ``min_premium``."""
        p, view = self.params, ctx.view
        index = view.atm_index()
        call, put = view.contract(index, "CE"), view.contract(index, "PE")
        legs = (PlannedLeg(call, "SELL", p.lots), PlannedLeg(put, "SELL", p.lots))
        bids = (float(view.calls.bid[index]), float(view.puts.bid[index]))
        credit = touch_credit(ctx, legs)
        if credit is None or min(bids) < p.min_premium:
            return None
        credit /= p.lots
        richness = min(1.0, credit / (p.rich_credit_fraction * view.forward))
        return EntryPlan(
            legs=legs,
            anchor=call,
            strength=0.5 * strength + 0.5 * richness,
            reason=f"{why}: straddle {call.strike:g}, credit {credit:.2f}",
        )
