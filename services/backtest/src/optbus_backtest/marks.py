"""The run marked to market: realised and unrealised P&L and portfolio Greeks through time.

The trade log holds what was traded, not what the book was worth in between, so the run's
equity, drawdown and exposure are sampled beside it from everything the handlers publish:
on every position change and closed trade, and once a market minute on the chains. Each open
position is marked as risk marks it (``optbus_risk.marking``: mid, last, then model price) and
its Greeks are those of its latest quote, not of its entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from optbus.events import (
    ChainGreeks,
    Event,
    Position,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    TradeClosed,
)
from optbus.quotes import ChainKey, OptionQuote, chain_key, key_of_chain, quote_in_chain
from optbus_risk.marking import mark_of, unrealised

SAMPLE_INTERVAL_NS = 60 * 1_000_000_000
"""How often the chains sample the book between position changes (one market minute)."""


@dataclass(frozen=True, slots=True)
class MarkPoint:
    """The book at one instant: P&L so far (realised and unrealised), premium held at its
    marks, and the portfolio Greeks (quantity times each option's latest Greek)."""

    ts: int
    realised: float
    unrealised: float
    premium: float
    delta: float
    gamma: float
    theta: float
    vega: float


class MarkRecorder:
    """Samples the book from the events a run publishes (an ``on_published`` callback)."""

    def __init__(self, interval_ns: int = SAMPLE_INTERVAL_NS) -> None:
        self._interval_ns = interval_ns
        self._chains: dict[ChainKey, ChainGreeks] = {}
        self._positions: dict[str, Position] = {}
        self._realised = 0.0
        self._next_sample_ns = 0
        self.points: list[MarkPoint] = []

    def record(self, subject: str, event: Event) -> None:
        """Take one published event (``subject`` is unused: the type says what it is)."""
        del subject
        match event:
            case ChainGreeks():
                self._chains[key_of_chain(event)] = event
                if self._positions and event.ts_event >= self._next_sample_ns:
                    self._sample(event.ts_event)
            case PositionOpened() | PositionUpdated():
                self._positions[event.position.position_id] = event.position
                self._sample(event.ts_event)
            case PositionClosed():
                self._positions.pop(event.position_id, None)
            case TradeClosed():
                self._realised += event.net_pnl
                self._sample(event.ts_event)

    def _quote(self, position: Position) -> OptionQuote | None:
        chain = self._chains.get(chain_key(position.contract))
        return None if chain is None else quote_in_chain(chain, position.contract)

    def _sample(self, ts: int) -> None:
        self._next_sample_ns = ts - ts % self._interval_ns + self._interval_ns
        open_pnl = premium = delta = gamma = theta = vega = 0.0
        for position in self._positions.values():
            quote = self._quote(position)
            mark = None if quote is None else mark_of(quote)
            open_pnl += unrealised(position, mark)
            price = position.average_price if mark is None else mark.price
            if position.contract.option_type != "FUT":  # a future holds no premium
                premium += abs(position.quantity) * price
            if quote is not None:
                delta += position.quantity * (quote.delta or 0.0)
                gamma += position.quantity * (quote.gamma or 0.0)
                theta += position.quantity * (quote.theta or 0.0)
                vega += position.quantity * (quote.vega or 0.0)
        self.points.append(
            MarkPoint(ts, self._realised, open_pnl, premium, delta, gamma, theta, vega)
        )
