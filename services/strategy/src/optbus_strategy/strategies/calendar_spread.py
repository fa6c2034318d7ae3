"""Calendar spread: sell the near expiry and buy the next one at the same strike, at the money.

Entry, on a chain of the near expiry: the latest chain of the next expiry of the same
underlying must be at most ``max_chain_age_seconds`` old and expire within
``max_far_days_to_expiry`` days; at the strike nearest the near forward (listed in both),
the near expiry's implied volatility (the mean of its call's and put's) must exceed the far
expiry's by at least ``min_iv_spread`` (0.01 is one volatility point): the term structure is
inverted, so the option sold is dear against the one bought. Then buy ``lots`` of the far
``option_type`` and sell ``lots`` of the near one (the far leg first, so a broker filling in
order is never naked short), when the near bid is at least ``min_premium`` and the spread
costs a debit at the touch (selling the near option for more than the far one costs would
mean a broken quote). No adjustments. Exits (common): target and stop as fractions of the
debit (the far leg marked on its expiry's latest chain: without a far mark neither fires),
and ``exit_minutes_before_expiry`` of the near expiry. Strength: min(1, IV spread / 0.05).
Anchor of the features: the near (short) leg.
"""

from __future__ import annotations

import math
from typing import Literal

from optbus_strategy.base import StrategyContext
from optbus_strategy.chainview import ChainView
from optbus_strategy.emit import EntryPlan, PlannedLeg
from optbus_strategy.lifecycle import GroupStrategy
from optbus_strategy.params import CommonParams, check
from optbus_strategy.selection import touch_credit

KIND = "calendar_spread"
_FULL_STRENGTH_IV_SPREAD = 0.05
_NS_PER_SECOND = 1_000_000_000


class CalendarSpreadParams(CommonParams, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Calendar spread's term-structure filter and far chain (see the module docstring)."""

    option_type: Literal["CE", "PE"] = "CE"
    min_iv_spread: float = 0.005
    min_premium: float = 5.0
    max_chain_age_seconds: float = 120.0
    max_far_days_to_expiry: float = 35.0
    min_days_to_expiry: float = 1.0
    exit_minutes_before_expiry: float = 1_500.0
    target_profit: float = 0.25
    stop_loss: float = 0.3

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.min_premium >= 0, "min_premium must not be negative")
        check(self.max_chain_age_seconds > 0, "max_chain_age_seconds must be positive")
        check(
            self.max_far_days_to_expiry >= self.min_days_to_expiry,
            "max_far_days_to_expiry must not be below min_days_to_expiry",
        )


def atm_iv(view: ChainView, index: int) -> float:
    """The mean of the call's and the put's implied volatility at ``index`` (NaN if none)."""
    return (float(view.calls.iv[index]) + float(view.puts.iv[index])) / 2


class CalendarSpread(GroupStrategy[CalendarSpreadParams]):
    """Sells near-expiry volatility that is dear against the next expiry's, at the money."""

    def plan_entry(self, ctx: StrategyContext) -> EntryPlan | None:
        """Sell the near ATM option and buy the next expiry's when near IV is rich enough."""
        p, near = self.params, ctx.view
        far = ctx.next_expiry_view()
        if (
            far is None
            or ctx.ts_ns - int(far.chain.ts_event) > p.max_chain_age_seconds * _NS_PER_SECOND
            or far.minutes_to_expiry / 1_440 > p.max_far_days_to_expiry
        ):
            return None
        index = near.atm_index()
        far_index = far.index_of(float(near.strikes[index]))
        if far_index is None:
            return None
        spread = atm_iv(near, index) - atm_iv(far, far_index)
        if not math.isfinite(spread) or spread < p.min_iv_spread:
            return None
        sold = near.contract(index, p.option_type)
        bought = far.contract(far_index, p.option_type)
        legs = (PlannedLeg(bought, "BUY", p.lots), PlannedLeg(sold, "SELL", p.lots))
        credit = touch_credit(ctx, legs)
        if credit is None or credit >= 0:
            return None
        if float(near.side(p.option_type).bid[index]) < p.min_premium:
            return None
        return EntryPlan(
            legs=legs,
            anchor=sold,
            strength=min(1.0, spread / _FULL_STRENGTH_IV_SPREAD),
            reason=(f"calendar {sold.strike:g}{p.option_type} {sold.expiry}/{bought.expiry}, "
                    f"IV spread {spread:.4f}, debit {-credit / p.lots:.2f}"),
        )  # fmt: skip
