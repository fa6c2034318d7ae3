"""The training set of recorded chains: each option at each sampled time, labelled with its
forward return over a horizon.

Recorded events are folded in event order, exactly as the strategy service folds them: every
chain and India VIX tick goes into a ``FeatureHistory``, and at each sampling instant (the first
chain of an underlying and expiry in each ``sample_minutes`` slot of the session) every option
with a two-sided quote gets its features from ``option_features``, with the context as it stood
before that chain. So a row's features use nothing later than its own time. The label waits for
the future: the first chain of the same underlying and expiry at or after ``t + horizon``, in the
same session and at most ``max_label_delay_seconds`` late, gives the option's mid there; a row
with no such quote (the session closed, the data ended, the strike vanished, a one-sided quote)
is left out and counted. Pure: events in, columns out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

import msgspec
import numpy as np
import numpy.typing as npt

from optbus.events import ChainGreeks, ChainSide, Contract, OptionType, VolatilityIndexTick
from optbus.features import (
    FEATURE_NAMES,
    FeatureHistory,
    feature_vector,
    option_features,
    session_bounds_ns,
)
from optbus.market import MarketFacts
from optbus_trainer.dataset import TrainingSet

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND

LABEL_DEFINITION = (
    "forward_return_pct = 100 * (mid at the first chain of the same underlying and expiry at or "
    "after t + horizon, at most max_label_delay_seconds late and in the same session) / (mid at "
    "t) - 100, mid = (bid + ask) / 2 of a two-sided quote; winner = forward_return_pct > 0"
)
"""What a chain row's label means (written into the Parquet file's metadata)."""

NO_FUTURE_QUOTE = "no quote at the horizon in the session"
BELOW_MIN_PRICE = "mid below the minimum price"
ONE_SIDED = "no two-sided quote"


class ChainSampling(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How rows are drawn from recorded chains and labelled.

    Chain rows stand for no strategy and no signal, so ``strategy`` (a name outside the
    one-hot kinds: all zeros) and ``signal_strength`` are the same constant on every row.
    """

    sample_minutes: float = 5.0
    horizon_minutes: float = 15.0
    max_label_delay_seconds: float = 60.0
    min_price: float = 1.0
    strategy: str = "none"
    signal_strength: float = 0.0

    def __post_init__(self) -> None:
        if self.sample_minutes <= 0 or self.horizon_minutes <= 0:
            raise ValueError("sample_minutes and horizon_minutes must be above zero")
        if self.max_label_delay_seconds < 0 or self.min_price < 0:
            raise ValueError("max_label_delay_seconds and min_price must not be negative")


@dataclass(frozen=True, slots=True)
class ChainSet:
    """Chain rows in time order: the option, its features at ``ts_ns``, its mid then and at the
    horizon, and the forward return in percent; ``skipped`` counts the options left out, and why.
    """

    feature_names: tuple[str, ...]
    ts_ns: npt.NDArray[np.int64]
    underlying: tuple[str, ...]
    expiry: tuple[date, ...]
    strike: npt.NDArray[np.float64]
    option_type: tuple[str, ...]
    x: npt.NDArray[np.float64]
    mid: npt.NDArray[np.float64]
    future_mid: npt.NDArray[np.float64]
    future_ts_ns: npt.NDArray[np.int64]
    forward_return_pct: npt.NDArray[np.float64]
    skipped: Mapping[str, int]

    @property
    def rows(self) -> int:
        """How many rows."""
        return int(self.ts_ns.size)

    def training_set(self, facts: MarketFacts) -> TrainingSet:
        """The rows as a ``TrainingSet``: winner when the return is positive, ``pnl_pct`` the
        forward return, the day the exchange date of the row's time."""
        # Every option of a sampled chain shares its time: date each distinct time only once.
        moments, row_moment = np.unique(self.ts_ns, return_inverse=True)
        ordinals = [facts.local_date(int(ts)).toordinal() for ts in moments]
        day = np.asarray(ordinals, dtype=np.int64)[row_moment]
        order = np.argsort(day, kind="stable")
        return TrainingSet(
            feature_names=self.feature_names,
            x=self.x[order],
            winner=(self.forward_return_pct[order] > 0).astype(np.int8),
            pnl_pct=self.forward_return_pct[order],
            day=day[order],
            skipped=self.skipped,
        )


@dataclass(frozen=True, slots=True)
class _Sampled:
    """One option sampled at ``ts_ns``, waiting for its quote at the horizon."""

    ts_ns: int
    contract: Contract
    features: list[float]
    mid: float


@dataclass(slots=True)
class _Sample:
    """All the options sampled from one chain, and until when their label may arrive."""

    target_ns: int
    latest_ns: int
    session_open_ns: int
    options: list[_Sampled]


class ChainSetBuilder:
    """Folds recorded chains and VIX ticks, in event order, into labelled chain rows.

    Rows are sampled only from chains at or after ``emit_from_ns`` and before ``emit_until_ns``
    (chains outside still shape the history and give labels), so a window can be read with a
    warm-up before it and a horizon after it.
    """

    def __init__(
        self,
        facts: MarketFacts,
        sampling: ChainSampling | None = None,
        *,
        emit_from_ns: int | None = None,
        emit_until_ns: int | None = None,
        history: FeatureHistory | None = None,
    ) -> None:
        self._facts = facts
        self._sampling = sampling or ChainSampling()
        self._from = emit_from_ns
        self._until = emit_until_ns
        self._history = history or FeatureHistory(facts)
        self._sample_ns = int(self._sampling.sample_minutes * _NS_PER_MINUTE)
        self._horizon_ns = int(self._sampling.horizon_minutes * _NS_PER_MINUTE)
        self._delay_ns = int(self._sampling.max_label_delay_seconds * _NS_PER_SECOND)
        self._last_slot: dict[tuple[str, date], tuple[int, int]] = {}
        self._pending: dict[tuple[str, date], deque[_Sample]] = {}
        self._rows: list[tuple[_Sampled, float, int]] = []
        self._skipped: dict[str, int] = {}
        self.chains_seen = 0

    @property
    def rows(self) -> int:
        """Rows labelled so far."""
        return len(self._rows)

    def observe(self, event: ChainGreeks | VolatilityIndexTick) -> None:
        """Fold one recorded event (in event order)."""
        if isinstance(event, VolatilityIndexTick):
            self._history.observe_vix(event)
            return
        self.chains_seen += 1
        key = (event.snapshot.underlying, event.snapshot.expiry)
        self._label_from(key, event)
        if self._is_sampling_instant(key, event):
            self._sample(key, event)
        self._history.observe_chain(event)

    def observe_all(self, events: Iterable[ChainGreeks | VolatilityIndexTick]) -> ChainSet:
        """Fold every event and return the rows."""
        for event in events:
            self.observe(event)
        return self.finish()

    def finish(self) -> ChainSet:
        """The rows labelled so far; samples still waiting for their horizon are counted out."""
        waiting = sum(len(s.options) for queue in self._pending.values() for s in queue)
        skipped = dict(self._skipped)
        if waiting:
            skipped[NO_FUTURE_QUOTE] = skipped.get(NO_FUTURE_QUOTE, 0) + waiting
        return _columns(sorted(self._rows, key=_row_order), skipped)

    def _is_sampling_instant(self, key: tuple[str, date], chain: ChainGreeks) -> bool:
        ts = chain.ts_event
        if (self._from is not None and ts < self._from) or (
            self._until is not None and ts >= self._until
        ):
            return False
        opening, _ = session_bounds_ns(ts, self._facts)
        slot = (opening, (ts - opening) // self._sample_ns)
        if self._last_slot.get(key) == slot:
            return False
        self._last_slot[key] = slot
        return True

    def _sample(self, key: tuple[str, date], chain: ChainGreeks) -> None:
        ts = chain.ts_event
        opening, closing = session_bounds_ns(ts, self._facts)
        quoted = self._quoted(chain)
        if ts + self._horizon_ns > closing:
            self._skip(NO_FUTURE_QUOTE, len(quoted))
            return
        options = []
        for contract, mid in quoted:
            features = option_features(
                chain,
                contract,
                self._history.context(chain, contract),
                strategy=self._sampling.strategy,
                signal_strength=self._sampling.signal_strength,
            )
            options.append(_Sampled(ts, contract, feature_vector(features), mid))
        target = ts + self._horizon_ns
        sample = _Sample(target, target + self._delay_ns, opening, options)
        self._pending.setdefault(key, deque()).append(sample)

    def _quoted(self, chain: ChainGreeks) -> list[tuple[Contract, float]]:
        snapshot = chain.snapshot
        found = []
        for strike, option_type, mid in _mids(chain):
            if mid is None:
                self._skip(ONE_SIDED, 1)
            elif mid < self._sampling.min_price:
                self._skip(BELOW_MIN_PRICE, 1)
            else:
                contract = Contract(underlying=snapshot.underlying, expiry=snapshot.expiry,
                                    strike=strike, option_type=option_type)  # fmt: skip
                found.append((contract, mid))
        return found

    def _label_from(self, key: tuple[str, date], chain: ChainGreeks) -> None:
        queue = self._pending.get(key)
        ts = chain.ts_event
        while queue and queue[0].target_ns <= ts:
            sample = queue.popleft()
            same_session = session_bounds_ns(ts, self._facts)[0] == sample.session_open_ns
            if ts > sample.latest_ns or not same_session:
                self._skip(NO_FUTURE_QUOTE, len(sample.options))
                continue
            mids = {(strike, kind): mid for strike, kind, mid in _mids(chain) if mid is not None}
            for option in sample.options:
                future = mids.get((option.contract.strike, option.contract.option_type))
                if future is None:
                    self._skip(NO_FUTURE_QUOTE, 1)
                else:
                    self._rows.append((option, future, ts))

    def _skip(self, why: str, count: int) -> None:
        if count:
            self._skipped[why] = self._skipped.get(why, 0) + count


def _mids(chain: ChainGreeks) -> Iterator[tuple[float, OptionType, float | None]]:
    """Every option of the chain with the mid of its quote (None unless two-sided)."""
    snapshot = chain.snapshot
    sides: tuple[tuple[OptionType, ChainSide], ...] = (
        ("CE", snapshot.calls),
        ("PE", snapshot.puts),
    )
    for option_type, side in sides:
        for strike, bid, ask in zip(snapshot.strikes, side.bid, side.ask, strict=True):
            yield strike, option_type, (bid + ask) / 2 if bid > 0 and ask >= bid else None


def _row_order(row: tuple[_Sampled, float, int]) -> tuple[int, str, date, float, str]:
    c = row[0].contract
    return row[0].ts_ns, c.underlying, c.expiry, c.strike, c.option_type


def _columns(rows: list[tuple[_Sampled, float, int]], skipped: dict[str, int]) -> ChainSet:
    mid = np.asarray([option.mid for option, _, _ in rows], dtype=np.float64)
    future_mid = np.asarray([future for _, future, _ in rows], dtype=np.float64)
    contracts = [option.contract for option, _, _ in rows]
    x = np.asarray([option.features for option, _, _ in rows], dtype=np.float64)
    return ChainSet(
        feature_names=FEATURE_NAMES,
        ts_ns=np.asarray([option.ts_ns for option, _, _ in rows], dtype=np.int64),
        underlying=tuple(c.underlying for c in contracts),
        expiry=tuple(c.expiry for c in contracts),
        strike=np.asarray([c.strike for c in contracts], dtype=np.float64),
        option_type=tuple(c.option_type for c in contracts),
        x=x.reshape(len(rows), len(FEATURE_NAMES)),
        mid=mid,
        future_mid=future_mid,
        future_ts_ns=np.asarray([ts for _, _, ts in rows], dtype=np.int64),
        forward_return_pct=100.0 * future_mid / mid - 100.0 if rows else mid,
        skipped=skipped,
    )
