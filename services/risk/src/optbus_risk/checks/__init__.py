"""The pre-trade checks, each a pure function ``(intent, context) -> RiskCheck``."""

from optbus_risk.checks.gates import (
    check_circuit_breaker,
    check_duplicate,
    check_intent_age,
    check_kill_switch,
    check_trading_hours,
)
from optbus_risk.checks.orders import (
    check_freeze_quantity,
    check_lot_size,
    check_max_notional,
    check_max_premium,
    check_order_rate,
    check_price_band,
    price_band,
)
from optbus_risk.checks.portfolio import (
    check_margin,
    check_open_positions,
    check_portfolio_delta,
    check_portfolio_vega,
    margin_limit,
)
from optbus_risk.context import Check

ALL_CHECKS: tuple[tuple[str, Check], ...] = (
    ("kill_switch", check_kill_switch),
    ("circuit_breaker", check_circuit_breaker),
    ("trading_hours", check_trading_hours),
    ("intent_age", check_intent_age),
    ("duplicate", check_duplicate),
    ("order_rate", check_order_rate),
    ("lot_size", check_lot_size),
    ("freeze_quantity", check_freeze_quantity),
    ("price_band", check_price_band),
    ("max_notional", check_max_notional),
    ("max_premium", check_max_premium),
    ("margin", check_margin),
    ("open_positions", check_open_positions),
    ("portfolio_delta", check_portfolio_delta),
    ("portfolio_vega", check_portfolio_vega),
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
