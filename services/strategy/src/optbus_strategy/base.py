"""The strategy interface and the context a strategy sees with each chain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Protocol, TypeAlias

from optbus.event_calendar import MarketEvent
from optbus.events import (
    ChainGreeks,
    Contract,
    OrderIntent,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
    Side,
    Signal,
    futures_contract,
)
from optbus.features import FeatureHistory, option_features
from optbus.market import ContractSpec
from optbus.scoring import Scorer
from optbus_strategy.chainview import ChainView
from optbus_strategy.params import Pricing

Output: TypeAlias = Signal | OrderIntent
"""What a strategy asks to publish."""

_NS_PER_MINUTE = 60 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """Everything a strategy may use besides its own state, for one chain.

    ``history`` is shared by all strategies and must only be read; ``now_ns`` is the injected
    clock's time (for ``ts_init``); session bounds are those of the chain's trading day, and
    ``events`` the scheduled market events of that day (RBI policy, budget, ...).
    ``futures_expiry`` is the expiry of the index future whose price the chain carries (None
    when unknown: no future to hedge with).
    ``chains`` holds the latest chain seen of each expiry of the same underlying (this one's
    included), so a strategy can price and mark legs of another expiry (a calendar spread):
    the quotes of another expiry are as old as its latest chain (``ts_event`` says how old).
    """

    view: ChainView
    scorer: Scorer
    spec: ContractSpec
    history: FeatureHistory
    now_ns: int
    session_open_ns: int
    session_close_ns: int
    events: tuple[MarketEvent, ...] = ()
    futures_expiry: date | None = None
    chains: Mapping[date, ChainView] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def chain(self) -> ChainGreeks:
        """The chain being handled."""
        return self.view.chain

    @property
    def futures_contract(self) -> Contract | None:
        """The index future the chain quotes (see ``futures_expiry``)."""
        if self.futures_expiry is None:
            return None
        return futures_contract(self.view.underlying, self.futures_expiry)

    @property
    def ts_ns(self) -> int:
        """Market time: the chain's ``ts_event``."""
        return int(self.view.chain.ts_event)

    @property
    def minutes_since_open(self) -> float:
        """Minutes from the session's open to this chain."""
        return (self.ts_ns - self.session_open_ns) / _NS_PER_MINUTE

    @property
    def minutes_to_close(self) -> float:
        """Minutes from this chain to the session's close."""
        return (self.session_close_ns - self.ts_ns) / _NS_PER_MINUTE

    def view_of(self, expiry: date) -> ChainView | None:
        """The latest chain of ``expiry`` of this underlying: this one for its own expiry."""
        if expiry == self.view.expiry:
            return self.view
        return self.chains.get(expiry)

    def next_expiry_view(self) -> ChainView | None:
        """The latest chain of the nearest expiry after this chain's, if one has been seen."""
        later = [expiry for expiry in self.chains if expiry > self.view.expiry]
        return self.chains[min(later)] if later else None

    def _view_for(self, contract: Contract) -> ChainView | None:
        """Where ``contract`` is quoted: an option on the latest chain of its expiry; the
        future on this chain, which carries its price whatever the chain's own expiry."""
        if contract.option_type == "FUT":
            return self.view
        return self.view_of(contract.expiry)

    def mark(self, contract: Contract) -> float | None:
        """The contract's fair price on the latest chain of its expiry (``ChainView.mark``)."""
        view = self._view_for(contract)
        return None if view is None else view.mark(contract)

    def delta(self, contract: Contract) -> float | None:
        """The contract's delta on the latest chain of its expiry, or None."""
        view = self._view_for(contract)
        return None if view is None else view.delta(contract)

    def limit_price(self, contract: Contract, side: Side, pricing: Pricing) -> float | None:
        """A limit price from the latest quote of the contract's expiry, on the tick."""
        view = self._view_for(contract)
        if view is None:
            return None
        return view.limit_price(contract, side, pricing, self.spec.tick_size)

    def iv_history_size(self) -> int:
        """How many trailing ATM IV samples this chain's underlying and expiry have."""
        return self.history.iv_history_size(self.chain)

    def iv_percentile(self) -> float:
        """The chain's ATM IV percentile in its trailing window (0.5 without history)."""
        return float(self.history.iv_percentile(self.chain))

    def features(self, contract: Contract, kind: str, strength: float) -> dict[str, float]:
        """The scoring features of ``contract`` for a signal of ``kind`` and ``strength``."""
        features: dict[str, float] = option_features(
            self.chain,
            contract,
            self.history.context(self.chain, contract),
            strategy=kind,
            signal_strength=strength,
        )
        return features


class Strategy(Protocol):
    """A trading strategy: reads chains, proposes signals and intents, follows its positions.

    Implementations keep their own state (open groups, cooldowns) and do no I/O; time comes
    from the events. ``name`` is unique among configured strategies (it is the ``strategy``
    field of every event the strategy makes); ``kind`` is the registry name of its code.
    """

    @property
    def name(self) -> str:
        """The configured, unique name."""
        ...

    @property
    def kind(self) -> str:
        """The registry name of the strategy's code (``short_strangle``, ...)."""
        ...

    @property
    def underlyings(self) -> frozenset[str]:
        """The underlyings it trades."""
        ...

    def on_chain(self, chain: ChainGreeks, context: StrategyContext) -> list[Output]:
        """React to a chain of one of its underlyings: enter, adjust, exit or nothing."""
        ...

    def on_position_opened(self, event: PositionOpened) -> None:
        """One of its positions opened."""
        ...

    def on_position_updated(self, event: PositionUpdated) -> None:
        """One of its positions changed quantity or average price."""
        ...

    def on_position_closed(self, event: PositionClosed) -> None:
        """One of its positions closed."""
        ...

    def on_risk_decision(self, event: RiskDecision) -> None:
        """Risk decided on one of its intents (a rejection frees a pending entry)."""
        ...
