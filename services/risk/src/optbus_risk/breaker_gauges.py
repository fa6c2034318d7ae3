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
from optbus_risk.circuit import DailyPnl, breach, loss_limit
from optbus_risk.config import RiskConfig


class CircuitBreakerGauges(Collector):
    """``optbus_risk_circuit_breaker_tripped``, today's realised P&L and the loss limit: the
    alerts compare the last two to warn before the breaker trips."""

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
            "optbus_risk_realised_pnl_today_rupees",
            "Today's realised net P&L, as the circuit breaker counts it",
            value=today.realised,
        )
        yield GaugeMetricFamily(
            "optbus_risk_daily_loss_limit_rupees",
            "The realised loss (a positive number) at which the circuit breaker trips",
            value=loss_limit(self._config),
        )
