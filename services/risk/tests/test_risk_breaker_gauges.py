"""The circuit breaker's gauges show today's state as the checks see it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry

from optbus.clock import EventClock
from optbus.market import load_market_facts
from optbus_risk.breaker_gauges import CircuitBreakerGauges
from optbus_risk.circuit import DailyPnl, loss_limit
from optbus_risk.config import load_risk_config

CONFIG = load_risk_config()
FACTS = load_market_facts()
TODAY = date(2026, 12, 9)


def _registry(pnl: DailyPnl) -> CollectorRegistry:
    noon = datetime(2026, 12, 9, 12, tzinfo=ZoneInfo("Asia/Kolkata"))
    clock = EventClock(start_ns=int(noon.timestamp()) * 1_000_000_000)
    registry = CollectorRegistry()
    registry.register(CircuitBreakerGauges(lambda: pnl, CONFIG, FACTS, clock))
    return registry


def test_a_tripped_breaker_is_exported_as_one() -> None:
    registry = _registry(DailyPnl(day=TODAY, realised=-1.0, tripped_reason="streak"))

    assert registry.get_sample_value("optbus_risk_circuit_breaker_tripped") == 1


def test_a_breaker_tripped_on_an_earlier_day_is_exported_as_clear() -> None:
    registry = _registry(DailyPnl(day=date(2026, 12, 8), realised=-1.0, tripped_reason="streak"))

    assert registry.get_sample_value("optbus_risk_circuit_breaker_tripped") == 0


def test_todays_realised_pnl_and_the_loss_limit_are_exported() -> None:
    registry = _registry(DailyPnl(day=TODAY, realised=-1234.5))

    assert registry.get_sample_value("optbus_risk_realised_pnl_today_rupees") == -1234.5
    assert registry.get_sample_value("optbus_risk_daily_loss_limit_rupees") == loss_limit(CONFIG)
