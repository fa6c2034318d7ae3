"""The fill model: how much of an order a quote can fill, and at what price.

A buy takes the offer and a sell hits the bid (the touch), in whole lots, at most the size
displayed there. Beyond the touch it pays slippage, a fraction of the spread that grows with
the share of the displayed size it takes:

    slippage = spread x (spread_fraction + size_impact x fill quantity / displayed size)

rounded to the nearest tick, a half tick against the trader. A limit order fills only when the
touch is at or better than its limit, and never beyond its limit (slippage stops there).
"""

from __future__ import annotations

import math

from optbus.events import Side
from optbus_execution.config import SlippageModel

_EPSILON = 1e-9
_PRICE_DIGITS = 8


def fillable_quantity(remaining: int, displayed: int, lot_size: int) -> int:
    """The units a quote can fill now: whole lots, at most the order's rest and the display."""
    if remaining <= 0 or displayed <= 0:
        return 0
    return min(remaining, (displayed // lot_size) * lot_size)


def slippage(spread: float, fill_quantity: int, displayed: int, model: SlippageModel) -> float:
    """Rupees beyond the touch for taking ``fill_quantity`` of ``displayed`` units."""
    share = fill_quantity / displayed if displayed > 0 else 1.0
    return spread * (model.spread_fraction + model.size_impact * share)


def touch_price(side: Side, bid: float, ask: float) -> float:
    """The price a market order meets first: the offer for a buy, the bid for a sell."""
    return ask if side == "BUY" else bid


def limit_allows(side: Side, touch: float, limit_price: float | None) -> bool:
    """Whether the touch is at or better than the limit (always, for a market order)."""
    if limit_price is None:
        return True
    if side == "BUY":
        return touch <= limit_price + _EPSILON
    return touch >= limit_price - _EPSILON


def fill_price(
    side: Side,
    bid: float,
    ask: float,
    fill_quantity: int,
    displayed: int,
    tick: float,
    model: SlippageModel,
    limit_price: float | None = None,
) -> float:
    """The price of a fill of ``fill_quantity`` against a quote (touch plus slippage, on tick).

    The spread is the quote's ask minus bid (never below 0), or one tick when it is one-sided.
    The caller has checked that the touch is inside the limit (``limit_allows``).
    """
    spread = max(ask - bid, 0.0) if bid > 0.0 and ask > 0.0 else tick
    slip = slippage(spread, fill_quantity, displayed, model)
    if side == "BUY":
        price = ticks_to_price(math.floor((ask + slip) / tick + 0.5 + _EPSILON), tick)
        return price if limit_price is None else min(price, limit_price)
    price = max(tick, ticks_to_price(math.ceil((bid - slip) / tick - 0.5 - _EPSILON), tick))
    return price if limit_price is None else max(price, limit_price)


def is_on_tick(price: float, tick: float) -> bool:
    """Whether ``price`` is a whole number of ticks."""
    steps = price / tick
    return abs(steps - round(steps)) < 1e-6


def ticks_to_price(steps: int, tick: float) -> float:
    """``steps`` ticks as a price, free of float noise."""
    return round(steps * tick, _PRICE_DIGITS)
