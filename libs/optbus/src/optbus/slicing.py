"""Freeze slicing: how the exchange takes a quantity above the freeze quantity.

One rule for every service: risk counts the orders an intent makes against the order-rate
limit, and execution sends those very orders. Two copies of the rule drifted apart once (risk
counted ceil(quantity / freeze), execution sent whole-lot slices), so risk undercounted.
"""

from __future__ import annotations


def freeze_slices(quantity: int, lot_size: int, freeze_quantity: int) -> list[int]:
    """``quantity`` split into exchange orders of at most the freeze quantity, in whole lots.

    A slice is the largest multiple of the lot not above the freeze quantity (NIFTY: 27 lots of
    65 = 1,755 units under a freeze of 1,800); the last slice takes the rest. A non-positive
    quantity stays one order, so that the broker or risk can refuse it by name.
    """
    if quantity <= 0:
        return [quantity]
    largest = max(lot_size, (freeze_quantity // lot_size) * lot_size)
    full, rest = divmod(quantity, largest)
    return [largest] * full + ([rest] if rest else [])
