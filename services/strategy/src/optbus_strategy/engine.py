"""The strategy engine: configured strategies and shared feature history, fed by events.

Pure: the composition root decodes messages and calls ``handle`` (or the typed ``on_*``
methods) in delivery order, then publishes what they return. Time comes from the events,
``ts_init`` from the injected clock; the same events in the same order give the same output.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from types import MappingProxyType

from optbus.clock import Clock
from optbus.event_calendar import MarketEvent, events_on
from optbus.events import (
    ChainGreeks,
    Event,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
    VolatilityIndexTick,
)
from optbus.features import FeatureHistory
from optbus.market import ContractSpec, MarketFacts, MarketFactsError
from optbus.scoring import Scorer
from optbus_strategy.base import Output, Strategy, StrategyContext
from optbus_strategy.chainview import ChainView
from optbus_strategy.params import StrategySpec
from optbus_strategy.registry import StrategyRegistry, default_registry


class DuplicateStrategyName(ValueError):
    """Two strategies given to the engine share a name."""


class StrategyEngine:
    """Routes chains, VIX ticks, position events and risk decisions to the strategies."""

    def __init__(
        self,
        strategies: Iterable[Strategy],
        scorer: Scorer,
        facts: MarketFacts,
        clock: Clock,
        history: FeatureHistory | None = None,
    ) -> None:
        self._strategies: dict[str, Strategy] = {}
        for strategy in strategies:
            if strategy.name in self._strategies:
                raise DuplicateStrategyName(f"two strategies are named {strategy.name!r}")
            self._strategies[strategy.name] = strategy
        self._scorer = scorer
        self._facts = facts
        self._events: dict[int, tuple[MarketEvent, ...]] = {}
        self._clock = clock
        self._history = history or FeatureHistory(facts)
        self._position_owner: dict[str, str] = {}
        self._contracts: dict[tuple[str, int], ContractSpec] = {}
        self._futures_expiries: dict[tuple[str, date], date | None] = {}
        self._latest: dict[str, dict[date, ChainView]] = {}

    @classmethod
    def from_specs(
        cls,
        specs: Iterable[StrategySpec],
        scorer: Scorer,
        facts: MarketFacts,
        clock: Clock,
        registry: StrategyRegistry | None = None,
    ) -> StrategyEngine:
        """An engine running the configured strategies (``config.load_strategies``)."""
        registry = registry or default_registry()
        return cls([registry.build(spec) for spec in specs], scorer, facts, clock)

    @property
    def strategies(self) -> list[Strategy]:
        """The strategies, in configuration order."""
        return list(self._strategies.values())

    @property
    def scorer(self) -> Scorer:
        """The scorer in force."""
        return self._scorer

    @property
    def history(self) -> FeatureHistory:
        """The feature history the engine folds events into."""
        return self._history

    def set_scorer(self, scorer: Scorer) -> None:
        """Swap in a newly promoted model: every later signal carries its version and hash."""
        self._scorer = scorer

    def handle(self, event: Event) -> list[Output]:
        """Dispatch any event; types the engine does not follow give nothing."""
        if isinstance(event, ChainGreeks):
            return self.on_chain(event)
        if isinstance(event, VolatilityIndexTick):
            return self.on_vix(event)
        if isinstance(event, PositionOpened):
            return self.on_position_opened(event)
        if isinstance(event, PositionUpdated):
            return self.on_position_updated(event)
        if isinstance(event, PositionClosed):
            return self.on_position_closed(event)
        if isinstance(event, RiskDecision):
            return self.on_risk_decision(event)
        return []

    def on_chain(self, chain: ChainGreeks) -> list[Output]:
        """Let each strategy of the chain's underlying act, then fold the chain into history.

        A chain without strikes is only folded in: there is nothing to trade.
        """
        underlying = chain.snapshot.underlying
        interested = [s for s in self._strategies.values() if underlying in s.underlyings]
        outputs: list[Output] = []
        if interested and chain.snapshot.strikes:
            context = self._context(chain)
            for strategy in interested:
                outputs.extend(strategy.on_chain(chain, context))
        self._history.observe_chain(chain)
        return outputs

    def on_vix(self, tick: VolatilityIndexTick) -> list[Output]:
        """Remember India VIX for the features."""
        self._history.observe_vix(tick)
        return []

    def on_position_opened(self, event: PositionOpened) -> list[Output]:
        """Hand a new position to the strategy that owns it."""
        strategy = self._strategies.get(event.position.strategy)
        if strategy is not None:
            self._position_owner[event.position.position_id] = strategy.name
            strategy.on_position_opened(event)
        return []

    def on_position_updated(self, event: PositionUpdated) -> list[Output]:
        """Hand a changed position to the strategy that owns it."""
        strategy = self._strategies.get(event.position.strategy)
        if strategy is not None:
            strategy.on_position_updated(event)
        return []

    def on_position_closed(self, event: PositionClosed) -> list[Output]:
        """Tell the owning strategy that its position closed."""
        owner = self._position_owner.pop(event.position_id, None)
        strategy = self._strategies.get(owner) if owner else None
        if strategy is not None:
            strategy.on_position_closed(event)
        return []

    def on_risk_decision(self, event: RiskDecision) -> list[Output]:
        """Tell the strategy that made the intent what risk decided."""
        strategy = self._strategies.get(event.intent.strategy)
        if strategy is not None:
            strategy.on_risk_decision(event)
        return []

    def _context(self, chain: ChainGreeks) -> StrategyContext:
        opening, closing = self._history.session_bounds_ns(chain.ts_event)
        view = ChainView(chain)
        return StrategyContext(
            view=view,
            scorer=self._scorer,
            spec=self._contract(chain.snapshot.underlying, opening),
            history=self._history,
            now_ns=self._clock.now_ns(),
            session_open_ns=opening,
            session_close_ns=closing,
            events=self._events_of_day(opening),
            futures_expiry=self._futures_expiry(chain.snapshot.underlying, chain.snapshot.expiry),
            chains=self._remember(view, opening),
        )

    def _futures_expiry(self, underlying: str, chain_expiry: date) -> date | None:
        """The expiry of the future a chain quotes (looked up once per chain expiry)."""
        key = (underlying, chain_expiry)
        if key not in self._futures_expiries:
            try:
                self._futures_expiries[key] = self._facts.futures_expiry(underlying, chain_expiry)
            except MarketFactsError:
                self._futures_expiries[key] = None
        return self._futures_expiries[key]

    def _remember(self, view: ChainView, session_open_ns: int) -> MappingProxyType[date, ChainView]:
        """Keep ``view`` as its expiry's latest chain; the underlying's latest chains, read-only.

        Expiries before the session's day are dropped: nothing trades them any more.
        """
        latest = self._latest.setdefault(view.underlying, {})
        if view.expiry not in latest:
            today = self._facts.local_date(session_open_ns)
            for expired in [expiry for expiry in latest if expiry < today]:
                del latest[expired]
        latest[view.expiry] = view
        return MappingProxyType(latest)

    def _events_of_day(self, session_open_ns: int) -> tuple[MarketEvent, ...]:
        """The scheduled events of the session's day (looked up once per day)."""
        events = self._events.get(session_open_ns)
        if events is None:
            day = self._facts.local_date(session_open_ns)
            events = self._events[session_open_ns] = events_on(day)
        return events

    def _contract(self, underlying: str, session_open_ns: int) -> ContractSpec:
        """The contract in force on the session's day (looked up once per day)."""
        key = (underlying, session_open_ns)
        spec = self._contracts.get(key)
        if spec is None:
            day = self._facts.local_date(session_open_ns)
            spec = self._contracts[key] = self._facts.contract(underlying, day)
        return spec
