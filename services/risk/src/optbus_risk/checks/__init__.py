"""The pre-trade checks, each a pure function ``(intent, context) -> RiskCheck``."""

from optbus_risk.checks.gates import (
    CIRCUIT_BREAKER,
    DUPLICATE,
    INTENT_AGE,
    KILL_SWITCH,
    TRADING_HOURS,
    check_circuit_breaker,
    check_duplicate,
    check_intent_age,
    check_kill_switch,
    check_trading_hours,
)
from optbus_risk.checks.orders import (
    FREEZE_QUANTITY,
    LOT_SIZE,
    MAX_NOTIONAL,
    MAX_PREMIUM,
    ORDER_RATE,
    PRICE_BAND,
    check_freeze_quantity,
    check_lot_size,
    check_max_notional,
    check_max_premium,
    check_order_rate,
    check_price_band,
    price_band,
)
from optbus_risk.checks.portfolio import (
    MARGIN,
    OPEN_POSITIONS,
    PORTFOLIO_DELTA,
    PORTFOLIO_VEGA,
    check_margin,
    check_open_positions,
    check_portfolio_delta,
    check_portfolio_vega,
    margin_limit,
)
from optbus_risk.context import Check

ALL_CHECKS: tuple[tuple[str, Check], ...] = (
    (KILL_SWITCH, check_kill_switch),
    (CIRCUIT_BREAKER, check_circuit_breaker),
    (TRADING_HOURS, check_trading_hours),
    (INTENT_AGE, check_intent_age),
    (DUPLICATE, check_duplicate),
    (ORDER_RATE, check_order_rate),
    (LOT_SIZE, check_lot_size),
    (FREEZE_QUANTITY, check_freeze_quantity),
    (PRICE_BAND, check_price_band),
    (MAX_NOTIONAL, check_max_notional),
    (MAX_PREMIUM, check_max_premium),
    (MARGIN, check_margin),
    (OPEN_POSITIONS, check_open_positions),
    (PORTFOLIO_DELTA, check_portfolio_delta),
    (PORTFOLIO_VEGA, check_portfolio_vega),
)
"""Every check the engine runs, by name, in the order they appear in a RiskDecision."""

__all__ = [
    "ALL_CHECKS",
    "check_circuit_breaker",
    "check_duplicate",
    "check_freeze_quantity",
    "check_intent_age",
    "check_kill_switch",
    "check_lot_size",
    "check_margin",
    "check_max_notional",
    "check_max_premium",
    "check_open_positions",
    "check_order_rate",
    "check_portfolio_delta",
    "check_portfolio_vega",
    "check_price_band",
    "check_trading_hours",
    "margin_limit",
    "price_band",
]
