"""Short strangle: sell an out-of-the-money call and put at chosen deltas, roll when tested.

Entry: when the ATM IV percentile is at least ``min_iv_percentile``, sell ``lots`` of the
out-of-the-money call whose delta is nearest ``call_delta`` and of the put whose |delta| is
nearest ``put_delta``, each with a bid of at least ``min_premium``. Delta monitoring: when
the group's net delta passes ``max_net_delta`` times the units sold on one side, the side the
market moved away from (the untested one) is closed and sold again at the delta of the
tested side (capped at 0.5), which brings the net delta back near zero; at most
``max_adjustments`` times, ``adjust_cooldown_seconds`` apart. Exits (common): target profit,
stop loss (as fractions of the credit) and ``exit_minutes_before_expiry``.
Strength: the IV percentile (richer premium, stronger). Anchor of the features: the put.
"""

from __future__ import annotations

from optbus.events import OptionType, Position
from optbus_strategy.base import Output, StrategyContext
from optbus_strategy.emit import EntryPlan, PlannedLeg
from optbus_strategy.groups import Group
from optbus_strategy.lifecycle import GroupStrategy
from optbus_strategy.params import CommonParams, check
from optbus_strategy.selection import nearest_delta, out_of_the_money, premium_at_least

KIND = "short_strangle"
_MAX_ROLL_DELTA = 0.5


class ShortStrangleParams(CommonParams, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Short strangle's strikes, entry filter and delta monitoring (see the module docstring)."""

    call_delta: float = 0.16
    put_delta: float = 0.16
    min_premium: float = 5.0
    min_iv_percentile: float = 0.0
    max_net_delta: float = 0.25
    max_adjustments: int = 2
    adjust_cooldown_seconds: float = 300.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check(0 < self.call_delta < 0.5 and 0 < self.put_delta < 0.5,
              "call_delta and put_delta must be between 0 and 0.5")  # fmt: skip
        check(0 <= self.min_iv_percentile <= 1, "min_iv_percentile must be between 0 and 1")
        check(self.min_premium >= 0, "min_premium must not be negative")
        check(self.max_net_delta > 0, "max_net_delta must be positive")
        check(self.max_adjustments >= 0, "max_adjustments must not be negative")


def short_leg(
    ctx: StrategyContext, option_type: OptionType, target: float, min_premium: float
) -> int | None:
    """The out-of-the-money option nearest ``target`` |delta| with enough premium to sell."""
    view = ctx.view
    mask = out_of_the_money(view, option_type) & premium_at_least(view, option_type, min_premium)
    return nearest_delta(view, option_type, target, mask)


def short_positions(group: Group) -> list[Position]:
    """The group's short legs."""
    return [pos for pos in group.positions.values() if pos.quantity < 0]


def delta_beyond(group: Group, ctx: StrategyContext, max_net_delta: float) -> float | None:
    """The group's net delta when it passes ``max_net_delta`` times the units sold on one
    side (the largest short leg); None while inside that band or without deltas."""
    net = group.net_delta(ctx)
    sold = max((abs(pos.quantity) for pos in short_positions(group)), default=0)
    if net is None or sold == 0 or abs(net) <= max_net_delta * sold:
        return None
    return net


class ShortStrangle(GroupStrategy[ShortStrangleParams]):
    """Sells a call and a put at chosen deltas and keeps the pair near delta-neutral."""

    def plan_entry(self, ctx: StrategyContext) -> EntryPlan | None:
        """Sell the two deltas when the IV percentile is high enough and both are quoted."""
        p, view = self.params, ctx.view
        ivp = ctx.iv_percentile()
        if ivp < p.min_iv_percentile:
            return None
        call = short_leg(ctx, "CE", p.call_delta, p.min_premium)
        put = short_leg(ctx, "PE", p.put_delta, p.min_premium)
        if call is None or put is None:
            return None
        call_c, put_c = view.contract(call, "CE"), view.contract(put, "PE")
        return EntryPlan(
            legs=(PlannedLeg(call_c, "SELL", p.lots), PlannedLeg(put_c, "SELL", p.lots)),
            anchor=put_c,
            strength=ivp,
            reason=f"strangle {put_c.strike:g}PE/{call_c.strike:g}CE, IV percentile {ivp:.2f}",
        )

    def adjust(self, group: Group, ctx: StrategyContext) -> list[Output]:
        """Roll the untested side when the net delta leaves the band."""
        p = self.params
        if not self.may_adjust(group, ctx, p.max_adjustments, p.adjust_cooldown_seconds):
            return []
        net = delta_beyond(group, ctx, p.max_net_delta)
        if net is None:
            return []
        return self._roll_untested(group, ctx, untested="PE" if net < 0 else "CE")

    def _roll_untested(
        self, group: Group, ctx: StrategyContext, untested: OptionType
    ) -> list[Output]:
        p, view = self.params, ctx.view
        shorts = short_positions(group)
        rolled = [pos for pos in shorts if pos.contract.option_type == untested]
        tested = [pos for pos in shorts if pos.contract.option_type != untested]
        tested_delta = max((abs(view.delta(pos.contract) or 0.0) for pos in tested), default=0.0)
        target = min(max(tested_delta, p.call_delta, p.put_delta), _MAX_ROLL_DELTA)
        index = short_leg(ctx, untested, target, p.min_premium)
        if not rolled or index is None:
            return []
        contract = view.contract(index, untested)
        if any(pos.contract == contract for pos in rolled):
            return []
        lots = sum(abs(pos.quantity) for pos in rolled) // ctx.spec.lot_size
        plan = EntryPlan(
            legs=(PlannedLeg(contract, "SELL", max(lots, 1)),),
            anchor=contract,
            strength=min(1.0, tested_delta / _MAX_ROLL_DELTA),
            reason=f"roll untested {untested} to {contract.strike:g} (delta {target:.2f})",
        )
        return self.roll(group, ctx, rolled, plan)
