"""What the pure risk functions depend on, and the shape of a pre-trade check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from optbus.clock import Clock
from optbus.events import OrderIntent, RiskCheck
from optbus.market import MarketFacts
from optbus.span import SpanFile
from optbus_risk.config import RiskConfig
from optbus_risk.state import RiskState


@dataclass(frozen=True, slots=True)
class RiskEnv:
    """The dependencies of the fold, the engine and the monitor: limits, market facts, clock,
    and the exchange's SPAN file when one was imported (margin uses it on its business date)."""

    config: RiskConfig
    facts: MarketFacts
    clock: Clock
    span: SpanFile | None = None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check may read: the limits, the market facts, the folded state and the time.

    One context serves one decision. ``measures`` keeps what the portfolio checks computed of
    the book (by measure, and the id of the intent in it, "" for the book as it is), so the
    decision's margin reuses the margin check's figures instead of pricing the scenarios again.
    """

    config: RiskConfig
    facts: MarketFacts
    state: RiskState
    now_ns: int
    span: SpanFile | None = None
    measures: dict[tuple[str, str], float] = field(default_factory=dict, compare=False)


Check = Callable[[OrderIntent, CheckContext], RiskCheck]
"""A pre-trade check: a pure function of the intent and the context."""


def passed(name: str, detail: str) -> RiskCheck:
    """A check that holds, with what it saw."""
    return RiskCheck(name=name, passed=True, detail=detail)


def failed(name: str, detail: str) -> RiskCheck:
    """A check that fails, with the reason."""
    return RiskCheck(name=name, passed=False, detail=detail)
