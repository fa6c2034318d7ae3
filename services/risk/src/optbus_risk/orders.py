"""What an intent turns into at the exchange: signed quantities, freeze slices, segments."""

from __future__ import annotations

from datetime import date

from optbus.events import Leg, OrderIntent, Side
from optbus.market import MarketFacts
from optbus.slicing import freeze_slices
from optbus_risk.config import RiskConfig


def side_sign(side: Side) -> int:
    """+1 for a buy, -1 for a sell."""
    return 1 if side == "BUY" else -1


def signed_quantity(leg: Leg) -> int:
    """The leg's quantity with its sign: positive buys, negative sells."""
    quantity: int = leg.quantity
    return side_sign(leg.side) * quantity


def intent_day(intent: OrderIntent, facts: MarketFacts) -> date:
    """The exchange-local date of the intent, which picks the contract specs in force."""
    return facts.local_date(intent.ts_event)


def leg_slices(leg: Leg, day: date, facts: MarketFacts) -> int:
    """The number of exchange orders one leg becomes: the freeze slices execution sends."""
    spec = facts.contract(leg.contract.underlying, day)
    return len(freeze_slices(leg.quantity, spec.lot_size, spec.freeze_quantity))


def orders_by_segment(
    intent: OrderIntent, config: RiskConfig, facts: MarketFacts
) -> dict[str, int]:
    """How many exchange orders the intent sends to each segment, freeze slices included."""
    day = intent_day(intent, facts)
    counts: dict[str, int] = {}
    for leg in intent.legs:
        segment = config.segments.of(leg.contract.underlying)
        counts[segment] = counts.get(segment, 0) + leg_slices(leg, day, facts)
    return counts
