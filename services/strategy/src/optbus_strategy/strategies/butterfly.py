"""Butterfly at the money, long (calls, for a debit) or iron (calls and puts, for a credit).

Both centre on the strike nearest the forward, with wings ``wing_steps`` strike steps away,
and enter only while the ATM IV percentile lies between ``min_iv_percentile`` and
``max_iv_percentile``. Every leg must be listed and quoted; bought legs come first, so a
broker filling in order is never naked short.

- ``variant = "long"``: buy ``lots`` calls at the lower wing and at the upper wing, sell
  2 x ``lots`` calls at the centre. The debit at the touch (the wings' asks less twice the
  centre's bid) must be positive and at most ``max_debit`` rupees per unit; the most the
  group can lose is that debit, the most it can make the wing width less the debit.
  Strength: the mean of 1 - IV percentile and of min(1, (width - debit) / (3 x debit)).
- ``variant = "iron"``: sell ``lots`` of the centre call and put, buy the call at the upper
  wing and the put at the lower wing (an iron condor whose short strikes meet). The credit at
  the touch must be at least ``min_credit`` rupees per unit; the most the group can lose is
  the wing width less the credit. Strength: the mean of the IV percentile and of
  credit / width.

No adjustments: the risk is defined. Exits (common): target and stop as fractions of the
debit or credit, ``exit_minutes_before_expiry``. Anchor of the features: the centre call.
"""

from __future__ import annotations

from typing import Literal

from optbus_strategy.base import StrategyContext
from optbus_strategy.emit import EntryPlan, PlannedLeg
from optbus_strategy.lifecycle import GroupStrategy
from optbus_strategy.params import CommonParams, check
from optbus_strategy.selection import touch_credit
from optbus_strategy.strategies.iron_condor import iron_legs

KIND = "butterfly"

Variant = Literal["long", "iron"]


class ButterflyParams(CommonParams, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Butterfly's variant, wings and premium limits (see the module docstring)."""

    variant: Variant = "iron"
    wing_steps: int = 4
    max_debit: float = 60.0
    min_credit: float = 20.0
    min_iv_percentile: float = 0.0
    max_iv_percentile: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.wing_steps >= 1, "wing_steps must be at least 1")
        check(self.max_debit > 0, "max_debit must be positive")
        check(self.min_credit >= 0, "min_credit must not be negative")
        check(
            0 <= self.min_iv_percentile <= self.max_iv_percentile <= 1,
            "need 0 <= min_iv_percentile <= max_iv_percentile <= 1",
        )


class Butterfly(GroupStrategy[ButterflyParams]):
    """A long call butterfly or an iron butterfly around the forward."""

    def plan_entry(self, ctx: StrategyContext) -> EntryPlan | None:
        """The variant's legs, when the IV percentile is in range and the premium is right."""
        p = self.params
        ivp = ctx.iv_percentile()
        if not p.min_iv_percentile <= ivp <= p.max_iv_percentile:
            return None
        if p.variant == "long":
            return self._long(ctx, ivp)
        return self._iron(ctx, ivp)

    def _long(self, ctx: StrategyContext, ivp: float) -> EntryPlan | None:
        p, view = self.params, ctx.view
        centre = view.atm_index()
        width = p.wing_steps * ctx.spec.strike_step
        lower = view.index_of(float(view.strikes[centre]) - width)
        upper = view.index_of(float(view.strikes[centre]) + width)
        if lower is None or upper is None:
            return None
        body = view.contract(centre, "CE")
        legs = (
            PlannedLeg(view.contract(lower, "CE"), "BUY", p.lots),
            PlannedLeg(view.contract(upper, "CE"), "BUY", p.lots),
            PlannedLeg(body, "SELL", 2 * p.lots),
        )
        credit = touch_credit(ctx, legs)
        if credit is None:
            return None
        debit = -credit / p.lots
        if not 0 < debit <= p.max_debit or debit >= width:
            return None
        payoff = min(1.0, (width - debit) / (3 * debit))
        return EntryPlan(
            legs=legs,
            anchor=body,
            strength=0.5 * (1.0 - ivp) + 0.5 * payoff,
            reason=f"long call butterfly {body.strike:g} +/-{width:g}, debit {debit:.2f}",
        )

    def _iron(self, ctx: StrategyContext, ivp: float) -> EntryPlan | None:
        p = self.params
        centre = ctx.view.atm_index()
        legs = iron_legs(ctx, centre, centre, p.wing_steps, p.lots)
        credit = None if legs is None else touch_credit(ctx, legs)
        if legs is None or credit is None:
            return None
        credit /= p.lots
        width = p.wing_steps * ctx.spec.strike_step
        if credit < p.min_credit or credit >= width:
            return None
        body = legs[2].contract
        return EntryPlan(
            legs=legs,
            anchor=body,
            strength=0.5 * ivp + 0.5 * credit / width,
            reason=f"iron butterfly {body.strike:g} +/-{width:g}, credit {credit:.2f}",
        )
