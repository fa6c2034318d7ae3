"""The data-quality monitor: how complete the trade and chain fields are, against thresholds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from optbus.events import TradeClosed
from optbus.features import FEATURE_NAMES
from optbus.trading_tables import trading_row

_CONTEXT_FIELDS = ("iv", "delta", "gamma", "theta", "vega", "spot", "forward", "india_vix", "pcr",
                   "open_interest")  # fmt: skip
TRADE_FIELDS: tuple[str, ...] = (
    *(f"{side}_{field}" for side in ("entry", "exit") for field in _CONTEXT_FIELDS),
    "model_version", "model_hash", "features",
)  # fmt: skip
"""Fields of ``trades`` the trainer learns from or labels with."""

CHAIN_FIELDS: tuple[str, ...] = ("bid", "ask", "iv", "delta", "gamma", "theta", "vega",
                                 "open_interest", "volume", "forward")  # fmt: skip
"""Fields of ``option_ticks``; a zero bid or ask counts as missing (nothing quoted)."""


@dataclass(frozen=True)
class Thresholds:
    """Minimum coverage per group of fields (0..1)."""

    trades: float = 0.95
    chains: float = 0.80


@dataclass(frozen=True)
class Coverage:
    """One field's coverage: rows with a value over rows in the window."""

    group: str
    field: str
    present: int
    total: int
    threshold: float

    @property
    def ratio(self) -> float | None:
        """Share of rows with a value; None when the window holds no rows."""
        return self.present / self.total if self.total else None

    @property
    def passed(self) -> bool:
        """At or above the threshold (an empty window fails: there is nothing to trust)."""
        return self.ratio is not None and self.ratio >= self.threshold


@dataclass(frozen=True)
class QualityReport:
    """Every field's coverage, and the verdict."""

    coverages: tuple[Coverage, ...]

    @property
    def passed(self) -> bool:
        """Whether every field is at or above its threshold."""
        return all(c.passed for c in self.coverages)

    @property
    def failures(self) -> list[Coverage]:
        """The fields below their threshold."""
        return [c for c in self.coverages if not c.passed]


def assess(
    trade_counts: Mapping[str, int], trades: int, chain_counts: Mapping[str, int] | None,
    ticks: int, thresholds: Thresholds,
) -> QualityReport:  # fmt: skip
    """The report from counts of rows with each field present (pure); no chain checks when
    ``chain_counts`` is None (a backtest run keeps no chains of its own)."""
    coverages = [Coverage("trades", f, trade_counts[f], trades, thresholds.trades)
                 for f in TRADE_FIELDS]  # fmt: skip
    if chain_counts is not None:
        coverages += [Coverage("chains", f, chain_counts[f], ticks, thresholds.chains)
                      for f in CHAIN_FIELDS]  # fmt: skip
    return QualityReport(tuple(coverages))


def trade_field_counts(trades: Iterable[TradeClosed]) -> tuple[dict[str, int], int]:
    """How many of ``trades`` have each trade field, counted on the row the ``trades`` table
    would hold for them (the persistence mapping), as the database count does (pure)."""
    rows = [row.values for row in map(trading_row, trades) if row is not None]
    counts = {field: sum(_present(row.get(field), field) for row in rows) for field in TRADE_FIELDS}
    return counts, len(rows)


def _present(value: object, field: str) -> bool:
    if field != "features":
        return value is not None
    return isinstance(value, Mapping) and all(name in value for name in FEATURE_NAMES)
