"""The live services' handlers, subscribed to the in-memory bus as the services subscribe.

The consumers and their handlers are those each service declares in its ``topology`` module,
as the live services run them; the order of the services (greeks, strategy, risk, execution:
the flow of events) and of each service's consumers fixes the order in which one event
reaches its consumers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import msgspec

import optbus_execution.topology as execution
import optbus_greeks.topology as greeks
import optbus_risk.topology as risk
import optbus_strategy.topology as strategy
from optbus.market import MarketFacts
from optbus.rates import DatedRate
from optbus.runtime.topology import ServiceTopology
from optbus.scoring import BaselineScorer
from optbus_backtest.bus import InMemoryBus
from optbus_backtest.clock import BacktestClock
from optbus_backtest.config import BacktestConfig
from optbus_execution.engine import ExecutionEngine
from optbus_execution.paper import PaperBroker
from optbus_greeks.domain import GreeksConfig
from optbus_risk.config import RiskConfig, load_risk_config
from optbus_risk.context import RiskEnv
from optbus_risk.engine import RiskEngine
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.state import RiskState
from optbus_strategy.config import StrategyConfigError, load_strategies
from optbus_strategy.engine import StrategyEngine
from optbus_strategy.params import StrategySpec


@dataclass(frozen=True, slots=True)
class Services:
    """The domain engines of one backtest, for inspection after the run."""

    strategy: StrategyEngine
    risk: RiskEngine
    execution: ExecutionEngine


def risk_config(config: BacktestConfig) -> RiskConfig:
    """The risk limits of the run: the risk file, with the run's capital if one is given."""
    limits = load_risk_config(config.risk_file)
    if config.capital is None:
        return limits
    return msgspec.structs.replace(limits, capital=config.capital)


def with_params(
    specs: list[StrategySpec], changes: dict[str, dict[str, Any]], source: str
) -> list[StrategySpec]:
    """``specs`` with the parameters in ``changes`` (by strategy name) changed and re-checked."""
    unknown = sorted(set(changes) - {spec.name for spec in specs})
    if unknown:
        names = ", ".join(spec.name for spec in specs)
        raise StrategyConfigError(f"{source}: no enabled strategy {unknown}; there are: {names}")
    changed = []
    for spec in specs:
        if spec.name not in changes:
            changed.append(spec)
            continue
        fields = {**msgspec.structs.asdict(spec.params), **changes[spec.name]}
        try:
            params = msgspec.convert(fields, type=type(spec.params))
        except (msgspec.ValidationError, ValueError) as exc:
            raise StrategyConfigError(f"{source}: strategy {spec.name!r}: {exc}") from None
        changed.append(dataclasses.replace(spec, params=params))
    return changed


def strategy_specs(config: BacktestConfig, facts: MarketFacts) -> list[StrategySpec]:
    """The strategies of the run: its strategies file with its parameter changes."""
    specs: list[StrategySpec] = load_strategies(config.strategies_file, facts=facts)
    if not config.strategy_params:
        return specs
    return with_params(specs, config.strategy_params, str(config.strategies_file))


def build_services(config: BacktestConfig, facts: MarketFacts, clock: BacktestClock) -> Services:
    """The strategy, risk and execution engines, all on the one backtest clock."""
    specs = strategy_specs(config, facts)
    env = RiskEnv(config=risk_config(config), facts=facts, clock=clock)
    return Services(
        strategy=StrategyEngine.from_specs(specs, BaselineScorer(), facts, clock),
        risk=RiskEngine(env, RiskState.initial(KillSwitchState.released())),
        execution=ExecutionEngine(
            config.broker.execution(), PaperBroker(config.broker, facts, clock), clock, facts
        ),
    )


PIPELINE: tuple[ServiceTopology[Any], ...] = (
    greeks.TOPOLOGY,
    strategy.TOPOLOGY,
    risk.TOPOLOGY,
    execution.TOPOLOGY,
)
"""The services a backtest runs, in the order one event reaches them (the flow of events)."""


def wire(
    bus: InMemoryBus,
    services: Services,
    config: BacktestConfig,
    facts: MarketFacts,
    clock: BacktestClock,
) -> None:
    """Subscribe every pure consumer the services declare, in the declared order, on the
    backtest clock; consumers that do I/O of their own (operator commands, model reloads)
    have nothing to consume in a backtest."""
    greeks_config = GreeksConfig(rate_at=DatedRate(facts), expiry_close_ns=facts.expiry_close_ns)
    bound = {
        b.topology.service: b
        for b in (
            greeks.TOPOLOGY.bind(greeks.GreeksDeps(greeks_config, clock)),
            strategy.TOPOLOGY.bind(strategy.StrategyDeps(services.strategy)),
            risk.TOPOLOGY.bind(services.risk),
            execution.TOPOLOGY.bind(services.execution),
        )
    }
    for topology in PIPELINE:
        for consumer, handle in bound[topology.service].handlers(clock):
            bus.subscribe(consumer.durable, consumer.subject, handle)
