"""Iron condor: a short strangle with protective wings bought further out, so risk is defined.

Entry: when the ATM IV percentile is at least ``min_iv_percentile``, sell the call nearest
``call_delta`` and the put nearest ``put_delta`` (out of the money, bid at least
``min_premium``), and buy the call ``wing_steps`` strike steps above the short call and the
put ``wing_steps`` steps below the short put; all four must be listed and quoted, and the
net credit at the touch (the shorts' bids less the wings' asks) must be at least
``min_credit`` rupees per unit. The wings are listed
first in the intent, so a broker filling legs in order is never naked short. The most the
group can lose is the wing width less the credit, per unit. No adjustments: the risk is
already defined. Exits (common): target and stop as fractions of the net credit, and
``exit_minutes_before_expiry``. Strength: the mean of the IV percentile and of
min(1, 3 * credit / wing width). Anchor of the features: the short put.
"""

from __future__ import annotations

from optbus_strategy.base import StrategyContext
from optbus_strategy.emit import EntryPlan, PlannedLeg
from optbus_strategy.lifecycle import GroupStrategy
from optbus_strategy.params import CommonParams, check
from optbus_strategy.selection import touch_credit
from optbus_strategy.strategies.short_strangle import short_leg

KIND = "iron_condor"


class IronCondorParams(CommonParams, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Iron condor's short deltas, wing width and credit floor (see the module docstring)."""

    call_delta: float = 0.16
    put_delta: float = 0.16
    wing_steps: int = 4
    min_premium: float = 5.0
    min_credit: float = 5.0
    min_iv_percentile: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check(0 < self.call_delta < 0.5 and 0 < self.put_delta < 0.5,
              "call_delta and put_delta must be between 0 and 0.5")  # fmt: skip
        check(self.wing_steps >= 1, "wing_steps must be at least 1")
        check(self.min_premium >= 0 and self.min_credit >= 0, "premium floors must be >= 0")
        check(0 <= self.min_iv_percentile <= 1, "min_iv_percentile must be between 0 and 1")


def iron_legs(
    ctx: StrategyContext, short_call: int, short_put: int, wing_steps: int, lots: int
) -> tuple[PlannedLeg, ...] | None:
    """Short the call at ``short_call`` and the put at ``short_put``, long the call
    ``wing_steps`` strike steps above and the put as far below; the wings first, so a broker
    filling legs in order is never naked short. None when a wing strike is not listed."""
    view = ctx.view
    width = wing_steps * ctx.spec.strike_step
    long_call = view.index_of(float(view.strikes[short_call]) + width)
    long_put = view.index_of(float(view.strikes[short_put]) - width)
    if long_call is None or long_put is None:
        return None
    return (
        PlannedLeg(view.contract(long_call, "CE"), "BUY", lots),
        PlannedLeg(view.contract(long_put, "PE"), "BUY", lots),
        PlannedLeg(view.contract(short_call, "CE"), "SELL", lots),
        PlannedLeg(view.contract(short_put, "PE"), "SELL", lots),
    )


class IronCondor(GroupStrategy[IronCondorParams]):
    """Sells a strangle and buys wings around it."""

    def plan_entry(self, ctx: StrategyContext) -> EntryPlan | None:
        """The four legs, when all are quoted and the credit is worth it."""
        p = self.params
        ivp = ctx.iv_percentile()
        if ivp < p.min_iv_percentile:
            return None
        short_call = short_leg(ctx, "CE", p.call_delta, p.min_premium)
        short_put = short_leg(ctx, "PE", p.put_delta, p.min_premium)
        if short_call is None or short_put is None:
            return None
        legs = iron_legs(ctx, short_call, short_put, p.wing_steps, p.lots)
        credit = None if legs is None else touch_credit(ctx, legs)
        if legs is None or credit is None or credit < p.min_credit * p.lots:
            return None
        credit /= p.lots
        width = p.wing_steps * ctx.spec.strike_step
        strength = 0.5 * ivp + 0.5 * min(1.0, 3.0 * credit / width)
        lc, lp, sc, sp = (leg.contract for leg in legs)
        return EntryPlan(
            legs=legs,
            anchor=sp,
            strength=strength,
            reason=(f"condor {lp.strike:g}/{sp.strike:g}PE {sc.strike:g}/{lc.strike:g}CE, "
                    f"credit {credit:.2f}"),
        )  # fmt: skip
