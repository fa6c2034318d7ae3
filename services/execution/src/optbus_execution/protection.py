"""Protected limit orders: what a market intent becomes before it reaches a real broker.

Brokers and the exchange refuse naked market orders for options, so a market order goes out as
a limit that crosses the touch by at most a protection fraction, and never beyond the exchange's
price band (a limit outside the band is refused by the exchange). The limit sits on the tick
grid, rounded towards the touch so that rounding never widens the protection.
"""

from __future__ import annotations

import math

from optbus.events import Side
from optbus.market import PriceBand
from optbus.quotes import OptionQuote
from optbus_execution.slippage import ticks_to_price

_EPSILON = 1e-9


class Unprotectable(ValueError):
    """No protected limit can be set: no touch on the side the order takes, or no reference
    price to band it around."""


def protected_limit(
    side: Side, quote: OptionQuote, band: PriceBand, tick: float, protection: float
) -> float:
    """The limit price of a market order on ``side``: the touch it takes (the ask for a buy,
    the bid for a sell) moved by ``protection`` (a fraction of it) against the trader, held
    inside the ``band`` around the quote's reference price and on the ``tick`` grid."""
    reference = quote.reference_price
    if reference is None:
        raise Unprotectable("no last price or two-sided quote to band the limit around")
    low, high = band.range_around(reference)
    if side == "BUY":
        if not quote.has_ask:
            raise Unprotectable("no ask to buy at")
        ceiling = min(quote.ask * (1 + protection), high)
        return ticks_to_price(math.floor(ceiling / tick + _EPSILON), tick)
    if not quote.has_bid:
        raise Unprotectable("no bid to sell at")
    floor = max(quote.bid * (1 - protection), low, tick)
    return ticks_to_price(math.ceil(floor / tick - _EPSILON), tick)
