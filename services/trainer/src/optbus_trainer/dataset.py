"""The training set: closed trades as a columnar table of entry features, labels and days.

Each row is one closed trade: its feature snapshot at entry (the ``ModelStamp`` the strategy
scored, so training sees exactly what serving saw) as columns in ``FEATURE_NAMES`` order, the
label ``winner`` (net P&L above zero, after charges), the net P&L as a percentage of the entry
premium, and the trading day of the entry (exchange time zone). Nothing known only at exit is a
column; exit data only makes the labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import msgspec
import numpy as np
import numpy.typing as npt

from optbus.events import TradeClosed
from optbus.features import FEATURE_NAMES, FeatureError, feature_vector
from optbus.market import MarketFacts


class InsufficientDataError(ValueError):
    """Too little data to train on: the message says how much there is and how much is needed."""


class DataRequirements(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The least data a model is trained on: rows (trades) and distinct trading days."""

    min_rows: int = 200
    min_days: int = 5


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled row: the entry features, the label, the P&L % and the trading day."""

    features: Mapping[str, float]
    winner: bool
    pnl_pct: float
    day: date


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Rows sorted by trading day (stable): ``x`` in ``feature_names`` order, one row per trade.

    ``day`` holds each row's trading day as a proleptic ordinal (``date.toordinal``).
    ``skipped`` counts the records left out and why (no model stamp, another feature set).
    """

    feature_names: tuple[str, ...]
    x: npt.NDArray[np.float64]
    winner: npt.NDArray[np.int8]
    pnl_pct: npt.NDArray[np.float64]
    day: npt.NDArray[np.int64]
    skipped: Mapping[str, int]

    @property
    def rows(self) -> int:
        """How many rows."""
        return int(self.x.shape[0])

    @property
    def days(self) -> tuple[date, ...]:
        """The distinct trading days, in order."""
        return tuple(date.fromordinal(int(d)) for d in np.unique(self.day))

    def require(self, requirements: DataRequirements) -> None:
        """Raise ``InsufficientDataError`` unless there are enough rows, days and both labels."""
        rows, days = self.rows, len(self.days)
        problems = []
        if rows < requirements.min_rows:
            problems.append(f"{rows} trades (at least {requirements.min_rows} needed)")
        if days < requirements.min_days:
            problems.append(f"{days} trading days (at least {requirements.min_days} needed)")
        winners = int(self.winner.sum())
        if rows and winners in (0, rows):
            problems.append(f"only {'winners' if winners else 'losers'} (both labels needed)")
        if problems:
            skipped = "".join(f", {n} skipped: {why}" for why, n in sorted(self.skipped.items()))
            raise InsufficientDataError(
                "not enough data to train: " + "; ".join(problems) + skipped
            )


def example_from_trade(trade: TradeClosed, facts: MarketFacts) -> Example:
    """The row of one closed trade, on the exchange date of its entry; ``ValueError`` if it
    carries no feature snapshot."""
    if trade.model is None:
        raise ValueError(f"trade {trade.trade_id} has no model stamp (no entry features)")
    premium = abs(trade.entry_price * trade.quantity)
    return Example(
        features=trade.model.features,
        winner=trade.net_pnl > 0,
        pnl_pct=100.0 * trade.net_pnl / premium if premium > 0 else 0.0,
        day=facts.local_date(trade.entry.ts),
    )


def from_trades(trades: Iterable[TradeClosed], facts: MarketFacts) -> TrainingSet:
    """The training set of closed trades; trades without entry features, and futures hedges (the
    scorer rates option entries; a hedge's outcome is the straddle's, not its signal's), are
    counted, not used."""
    examples: list[Example] = []
    skipped: dict[str, int] = {}
    for trade in trades:
        if trade.contract.option_type == "FUT":
            skipped["futures hedge"] = skipped.get("futures hedge", 0) + 1
            continue
        if trade.model is None:
            skipped["no model stamp"] = skipped.get("no model stamp", 0) + 1
            continue
        examples.append(example_from_trade(trade, facts))
    return from_examples(examples, skipped=skipped)


def from_examples(
    examples: Iterable[Example], *, skipped: Mapping[str, int] | None = None
) -> TrainingSet:
    """The columnar table of ``examples``, stably sorted by day; rows whose feature set is not
    ``FEATURE_NAMES`` (an older features version) are counted in ``skipped``."""
    counts = dict(skipped or {})
    vectors: list[list[float]] = []
    winners: list[int] = []
    pnls: list[float] = []
    days: list[int] = []
    for example in examples:
        try:
            vector = feature_vector(example.features)
        except FeatureError:
            counts["other feature set"] = counts.get("other feature set", 0) + 1
            continue
        vectors.append(vector)
        winners.append(int(example.winner))
        pnls.append(float(example.pnl_pct))
        days.append(example.day.toordinal())
    day = np.asarray(days, dtype=np.int64)
    order = np.argsort(day, kind="stable")
    x = np.asarray(vectors, dtype=np.float64).reshape(len(vectors), len(FEATURE_NAMES))
    return TrainingSet(
        feature_names=FEATURE_NAMES,
        x=x[order],
        winner=np.asarray(winners, dtype=np.int8)[order],
        pnl_pct=np.asarray(pnls, dtype=np.float64)[order],
        day=day[order],
        skipped=counts,
    )
