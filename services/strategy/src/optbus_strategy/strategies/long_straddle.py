"""Long straddle on a low IV percentile: buy volatility when it is cheap, sell when it is not.

Entry: when at least ``min_iv_history`` trailing ATM IV samples exist (one a minute by
default) and the current ATM IV ranks at or below ``max_iv_percentile`` among them, buy
``lots`` of the call and of the put at the strike nearest the forward (both quoted, each
priced above ``min_premium``).
Exits: the common ones (target, stop as fractions of the debit, holding time,
``exit_minutes_before_expiry``) and, first, when the IV percentile has risen to
``exit_iv_percentile`` (the cheapness is gone). Strength: 1 - IV percentile.
Anchor of the features: the call.
"""

from __future__ import annotations

import math

from optbus_strategy.base import StrategyContext
from optbus_strategy.emit import EntryPlan, PlannedLeg
from optbus_strategy.groups import Group
from optbus_strategy.lifecycle import GroupStrategy
from optbus_strategy.params import CommonParams, check

KIND = "long_straddle"


class LongStraddleParams(CommonParams, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Long straddle's IV percentile thresholds (see the module docstring)."""

    max_iv_percentile: float = 0.2
    exit_iv_percentile: float = 0.6
    min_iv_history: int = 120
    min_premium: float = 5.0
    target_profit: float = 0.3
    stop_loss: float = 0.3
    min_days_to_expiry: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check(
            0 <= self.max_iv_percentile < self.exit_iv_percentile <= 1,
            "need 0 <= max_iv_percentile < exit_iv_percentile <= 1",
        )
        check(self.min_iv_history >= 1, "min_iv_history must be at least 1")
        check(self.min_premium >= 0, "min_premium must not be negative")


class LongStraddle(GroupStrategy[LongStraddleParams]):
    """Buys the ATM straddle when implied volatility is low against its recent past."""

    def plan_entry(self, ctx: StrategyContext) -> EntryPlan | None:
        """Buy the ATM call and put when the IV percentile is low enough."""
        p, view = self.params, ctx.view
        if ctx.iv_history_size() < p.min_iv_history:
            return None
        ivp = ctx.iv_percentile()
        if ivp > p.max_iv_percentile:
            return None
        index = view.atm_index()
        mids = (float(view.calls.mid[index]), float(view.puts.mid[index]))
        if not all(math.isfinite(m) and m > p.min_premium for m in mids):
            return None
        call, put = view.contract(index, "CE"), view.contract(index, "PE")
        return EntryPlan(
            legs=(PlannedLeg(call, "BUY", p.lots), PlannedLeg(put, "BUY", p.lots)),
            anchor=call,
            strength=1.0 - ivp,
            reason=f"straddle {call.strike:g}, IV percentile {ivp:.2f}",
        )

    def exit_reason(self, group: Group, ctx: StrategyContext) -> str | None:
        """Close when the IV percentile has recovered, else the common exit rules."""
        if ctx.iv_percentile() >= self.params.exit_iv_percentile:
            return "iv_reverted"
        return super().exit_reason(group, ctx)
