"""Risk counts, against the order-rate limit, exactly the orders execution sends.

Every whole-lot quantity from 1 to 2,000 lots of NIFTY and BANKNIFTY goes through risk's
per-segment order count and through execution's order making; the two must agree, or risk's
orders-per-second check passes intents the exchange would throttle.
"""

from __future__ import annotations

import pytest
from execution_fixtures import DAY, EXPIRY, FACTS, T0, approved, engine, of_type

from optbus.events import Contract, Leg, Order, OrderIntent
from optbus_risk.config import load_risk_config
from optbus_risk.orders import orders_by_segment

MOST_LOTS = 2_000
RISK_CONFIG = load_risk_config()


def _intent(underlying: str, quantity: int) -> OrderIntent:
    """An opening intent buying ``quantity`` units of one at-the-money call of ``underlying``."""
    contract = Contract(underlying=underlying, expiry=EXPIRY, strike=26_000.0, option_type="CE")
    intent_id = f"{underlying}-{quantity}"
    return OrderIntent(
        event_id=f"ev-{intent_id}", ts_event=T0, ts_init=T0, intent_id=intent_id,
        group_id=f"group-{intent_id}", strategy="test", purpose="open",
        legs=[Leg(contract=contract, side="BUY", quantity=quantity)], reason="entry",
    )  # fmt: skip


@pytest.mark.parametrize("underlying", ["NIFTY", "BANKNIFTY"])
def test_risk_counts_as_many_orders_as_execution_sends_for_every_lot_count(
    underlying: str,
) -> None:
    lot = FACTS.contract(underlying, DAY).lot_size
    execution = engine()
    for lots in range(1, MOST_LOTS + 1):
        intent = _intent(underlying, lots * lot)

        counted = sum(orders_by_segment(intent, RISK_CONFIG, FACTS).values())
        sent = of_type(execution.on_decision(approved(intent)), Order)

        assert counted == len(sent), f"{lots} lots"
