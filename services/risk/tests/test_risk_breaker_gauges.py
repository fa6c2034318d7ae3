"""The circuit breaker's gauges show today's state as the checks see it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry

from optbus.clock import EventClock
from optbus.market import load_market_facts
from optbus_risk.breaker_gauges import CircuitBreakerGauges
from optbus_risk.circuit import DailyPnl, drawdown_limit, loss_limit
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


def test_todays_pnl_is_exported_with_the_unrealised_change_the_breaker_counts() -> None:
    # 1,000 realised loss, and the open positions fell from +500 at the open to -2,000 now.
    pnl = DailyPnl(day=TODAY, realised=-1000.0, unrealised=-2000.0, opening_unrealised=500.0)

    registry = _registry(pnl)

    assert registry.get_sample_value("optbus_risk_pnl_today_rupees") == -3500.0
    assert registry.get_sample_value("optbus_risk_daily_loss_limit_rupees") == loss_limit(CONFIG)


def test_todays_drawdown_from_its_peak_and_the_drawdown_limit_are_exported() -> None:
    registry = _registry(DailyPnl(day=TODAY, realised=4000.0, unrealised=-1500.0, peak=6000.0))

    assert registry.get_sample_value("optbus_risk_drawdown_rupees") == 3500.0
    assert registry.get_sample_value("optbus_risk_drawdown_limit_rupees") == drawdown_limit(CONFIG)


def test_every_gauge_the_alerts_read_exists_before_the_first_trade() -> None:
    registry = _registry(DailyPnl())

    samples = {
        name: registry.get_sample_value(name)
        for name in (
            "optbus_risk_circuit_breaker_tripped",
            "optbus_risk_pnl_today_rupees",
            "optbus_risk_drawdown_rupees",
            "optbus_risk_daily_loss_limit_rupees",
            "optbus_risk_drawdown_limit_rupees",
        )
    }

    assert samples == {
        "optbus_risk_circuit_breaker_tripped": 0,
        "optbus_risk_pnl_today_rupees": 0,
        "optbus_risk_drawdown_rupees": 0,
        "optbus_risk_daily_loss_limit_rupees": loss_limit(CONFIG),
        "optbus_risk_drawdown_limit_rupees": drawdown_limit(CONFIG),
    }
