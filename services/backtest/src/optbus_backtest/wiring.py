"""The live services' handlers, subscribed to the in-memory bus as the services subscribe.

The subjects and handler methods are those of ``services/*/src/*/main.py``; the order of the
subscriptions (greeks, strategy, risk, execution: the flow of DESIGN.md) fixes the order in
which one event reaches its consumers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

import optbus_execution.handlers as execution
from optbus import subjects
from optbus.events import Event
from optbus.market import MarketFacts
from optbus_backtest.bus import InMemoryBus
from optbus_backtest.clock import BacktestClock
from optbus_backtest.config import BacktestConfig
from optbus_execution.engine import ExecutionEngine
from optbus_execution.paper import PaperBroker
from optbus_greeks.domain import GreeksConfig
from optbus_greeks.handlers import price_snapshot
from optbus_risk.config import RiskConfig, load_risk_config
from optbus_risk.context import RiskEnv
from optbus_risk.handlers import RiskDesk
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.state import RiskState
from optbus_strategy.config import StrategyConfigError, load_strategies
from optbus_strategy.engine import StrategyEngine
from optbus_strategy.params import StrategySpec
from optbus_strategy.scoring import BaselineScorer


@dataclass(frozen=True, slots=True)
class Services:
    """The domain engines of one backtest, for inspection after the run."""

    strategy: StrategyEngine
    risk: RiskDesk
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
        risk=RiskDesk(env, clock, RiskState.initial(KillSwitchState.released())),
        execution=ExecutionEngine(
            config.broker.execution(), PaperBroker(config.broker, facts, clock), clock, facts
        ),
    )


def wire(
    bus: InMemoryBus,
    services: Services,
    config: BacktestConfig,
    facts: MarketFacts,
    clock: BacktestClock,
) -> None:
    """Subscribe every handler to what its live service consumes."""
    greeks = GreeksConfig(rate=config.rate, expiry_close_ns=facts.expiry_close_ns)
    engine = services.execution
    subscriptions: list[tuple[str, str, Callable[[Any], Sequence[Event]]]] = [
        ("greeks", subjects.MD_CHAINS, lambda e: price_snapshot(e, greeks, clock)),
        ("strategy-chains", subjects.GREEKS_CHAINS, services.strategy.handle),
        ("strategy-vix", "md.vix.>", services.strategy.handle),
        ("strategy-positions", "exec.position.>", services.strategy.handle),
        ("strategy-decisions", "risk.decision.>", services.strategy.handle),
        ("risk-intents", "strategy.intent.>", services.risk.on_intent),
        ("risk-chains", subjects.GREEKS_CHAINS, services.risk.on_chain),
        ("risk-executions", "exec.>", services.risk.on_exec),
        ("execution-chains", subjects.GREEKS_CHAINS, lambda e: execution.on_chain(e, engine)),
        ("execution-vix", "md.vix.>", lambda e: execution.on_vix(e, engine)),
        ("execution-decisions", "risk.decision.>", lambda e: execution.on_decision(e, engine)),
    ]
    for name, pattern, handle in subscriptions:
        bus.subscribe(name, pattern, handle)
