"""The circuit breaker as Prometheus gauges, read from the risk state at each scrape.

Read at scrape time rather than set by the handlers, which stay pure: the gauges always show
the state the checks see, today's by the risk clock (a breaker tripped yesterday shows clear).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from optbus.clock import Clock
from optbus.market import MarketFacts
from optbus_risk.circuit import DailyPnl, breach, drawdown_limit, loss_limit
from optbus_risk.config import RiskConfig


class CircuitBreakerGauges(Collector):
    """``optbus_risk_circuit_breaker_tripped`` and the two amounts the breaker trips on, each
    beside its limit: today's P&L (realised plus today's change in unrealised) and its drawdown
    from today's peak. The alerts compare each amount with its limit to warn before the trip."""

    def __init__(
        self, pnl: Callable[[], DailyPnl], config: RiskConfig, facts: MarketFacts, clock: Clock
    ) -> None:
        self._pnl = pnl
        self._config = config
        self._facts = facts
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        today = self._pnl().on(self._facts.local_date(self._clock.now_ns()))
        yield GaugeMetricFamily(
            "optbus_risk_circuit_breaker_tripped",
            "1 while today's loss or losing streak has halted new positions",
            value=0 if breach(today, self._config) is None else 1,
        )
        yield GaugeMetricFamily(
            "optbus_risk_pnl_today_rupees",
            "Today's net P&L as the circuit breaker counts it: realised plus today's change in "
            "the open positions' unrealised P&L",
            value=today.total,
        )
        yield GaugeMetricFamily(
            "optbus_risk_daily_loss_limit_rupees",
            "The loss of today's P&L (a positive number) at which the circuit breaker trips",
            value=loss_limit(self._config),
        )
        yield GaugeMetricFamily(
            "optbus_risk_drawdown_rupees",
            "How far today's P&L is below its highest point today (0 or more)",
            value=today.drawdown,
        )
        yield GaugeMetricFamily(
            "optbus_risk_drawdown_limit_rupees",
            "The drawdown from today's peak (a positive number) at which the circuit breaker trips",
            value=drawdown_limit(self._config),
        )
