"""Strike selection shared by the strategies: masks of tradeable options, nearest delta, and
what a set of legs brings at the touch."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from optbus.events import OptionType
from optbus_strategy.base import StrategyContext
from optbus_strategy.chainview import ChainView
from optbus_strategy.emit import PlannedLeg

BoolArray = NDArray[np.bool_]


def quoted(view: ChainView, option_type: OptionType) -> BoolArray:
    """Options with a two-sided quote and a delta (so they can be priced and sized)."""
    side = view.side(option_type)
    return np.isfinite(side.mid) & np.isfinite(side.delta)


def out_of_the_money(view: ChainView, option_type: OptionType) -> BoolArray:
    """Calls struck at or above the forward, puts at or below it."""
    if option_type == "CE":
        return view.strikes >= view.forward
    return view.strikes <= view.forward


def nearest_delta(
    view: ChainView, option_type: OptionType, target: float, mask: BoolArray
) -> int | None:
    """The index, among ``mask``, whose absolute delta is nearest ``target`` (None if none)."""
    candidates = np.flatnonzero(mask & quoted(view, option_type))
    if candidates.size == 0:
        return None
    distance = np.abs(np.abs(view.side(option_type).delta[candidates]) - target)
    return int(candidates[int(np.argmin(distance))])


def premium_at_least(view: ChainView, option_type: OptionType, minimum: float) -> BoolArray:
    """Options whose bid is at least ``minimum`` rupees (worth selling)."""
    return view.side(option_type).bid >= minimum


def touch_credit(ctx: StrategyContext, legs: Iterable[PlannedLeg]) -> float | None:
    """Rupees per unit the legs bring at the touch: the bids of the sells less the asks of
    the buys, each times its lots (negative for a debit); None when a leg is not quoted.

    Legs of another expiry are priced on that expiry's latest chain (``StrategyContext``).
    """
    total = 0.0
    for leg in legs:
        price = ctx.limit_price(leg.contract, leg.side, "touch")
        if price is None:
            return None
        total += (price if leg.side == "SELL" else -price) * leg.lots
    return total
