"""Conflation of a broker's ticks into one OptionChainSnapshot per chain per interval.

The book keeps the latest valid quote of every instrument. At each interval the session flushes
it: every chain that received a tick since the last flush (its options, or its underlying's index
or future) becomes one snapshot stamped with exchange time: ``ts_event`` is the latest exchange
timestamp among the quotes it holds. A quote whose exchange time is more than the stale age
behind that is stale: the snapshot marks it (``ChainSide.stale``) and blanks its bid, ask and
sizes, so a consumer sees no quote rather than an old one. Staleness is measured on exchange
time, never the wall clock, so a quiet market after hours makes nothing stale and a replay of the
same ticks gives the same snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from optbus.events import ChainSide, OptionChainSnapshot
from optbus.ids import derived_event_id
from optbus_brokers.feed import Instrument, QuoteTick
from optbus_market_data.feeds.plan import ChainKey, ChainPlan, SubscriptionPlan

SCHEMA_WITH_STALE_MARKS: Final[Literal[2]] = 2


@dataclass(frozen=True, slots=True)
class Flush:
    """What one interval produced: snapshots, and contracts that have just gone stale."""

    snapshots: list[OptionChainSnapshot]
    newly_stale: list[Instrument]


@dataclass(slots=True)
class _SideColumns:
    bid: list[float] = field(default_factory=list)
    ask: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)
    bid_size: list[int] = field(default_factory=list)
    ask_size: list[int] = field(default_factory=list)
    volume: list[int] = field(default_factory=list)
    open_interest: list[int] = field(default_factory=list)
    stale: list[bool] = field(default_factory=list)

    def add(self, tick: QuoteTick | None, stale: bool) -> None:
        """One strike: no quote at all, a stale one (touch blanked) or a fresh one."""
        touch = None if stale else tick
        self.bid.append(touch.bid or 0.0 if touch is not None else 0.0)
        self.ask.append(touch.ask or 0.0 if touch is not None else 0.0)
        self.bid_size.append(touch.bid_size if touch is not None else 0)
        self.ask_size.append(touch.ask_size if touch is not None else 0)
        self.last.append(tick.last if tick is not None else 0.0)
        self.volume.append(tick.volume if tick is not None else 0)
        self.open_interest.append(tick.open_interest if tick is not None else 0)
        self.stale.append(stale)

    def side(self) -> ChainSide:
        return ChainSide(
            bid=self.bid, ask=self.ask, last=self.last, bid_size=self.bid_size,
            ask_size=self.ask_size, volume=self.volume, open_interest=self.open_interest,
            stale=self.stale,
        )  # fmt: skip


def _price(tick: QuoteTick) -> float:
    """An index's or a future's price: the last traded, else the mid of its touch."""
    if tick.last > 0 or tick.bid is None or tick.ask is None:
        return tick.last
    return (tick.bid + tick.ask) / 2


class ChainBook:
    """The latest quote of every followed instrument, flushed into chain snapshots.

    ``run_id`` makes the snapshots' event ids unique to this session of the service.
    """

    def __init__(self, run_id: str, stale_ns: int) -> None:
        self._run_id = run_id
        self._stale_ns = stale_ns
        self._latest: dict[str, QuoteTick] = {}
        self._touched: set[ChainKey] = set()
        self._touched_underlyings: set[str] = set()
        self._stale: set[str] = set()
        self._flushes = 0

    def apply(self, tick: QuoteTick, instrument: Instrument) -> None:
        """Keep ``tick`` (already validated) as its instrument's latest quote."""
        held = self._latest.get(tick.token)
        if held is not None and held.ts_exchange_ns > tick.ts_exchange_ns:
            return  # an older quote arriving late must not replace a newer one
        self._latest[tick.token] = tick
        if instrument.kind in ("index", "future") or instrument.expiry is None:
            self._touched_underlyings.add(instrument.underlying)
        else:
            self._touched.add((instrument.underlying, instrument.expiry))

    def latest(self, token: str) -> QuoteTick | None:
        """The latest quote of ``token``, if any came."""
        return self._latest.get(token)

    def flush(self, plan: SubscriptionPlan) -> Flush:
        """One snapshot per chain of ``plan`` that was touched since the last flush.

        A chain whose index (or, when the plan follows one, future) has not quoted yet is held
        back: a snapshot needs a spot. ``ts_init`` is left 0 for the publisher to stamp.
        """
        self._flushes += 1
        snapshots: list[OptionChainSnapshot] = []
        newly_stale: list[Instrument] = []
        for key, chain in plan.chains.items():
            if key not in self._touched and chain.underlying not in self._touched_underlyings:
                continue
            snapshot = self._snapshot(plan, chain, newly_stale)
            if snapshot is not None:
                snapshots.append(snapshot)
        self._touched.clear()
        self._touched_underlyings.clear()
        return Flush(snapshots=snapshots, newly_stale=newly_stale)

    def _snapshot(
        self, plan: SubscriptionPlan, chain: ChainPlan, newly_stale: list[Instrument]
    ) -> OptionChainSnapshot | None:
        index = self._latest.get(plan.indexes[chain.underlying].token)
        future_instrument = plan.futures.get(chain.underlying)
        future = None if future_instrument is None else self._latest.get(future_instrument.token)
        if index is None or (future_instrument is not None and future is None):
            return None
        options = [*chain.calls, *chain.puts]
        quotes = [None if o is None else self._latest.get(o.token) for o in options]
        heard = [q for q in (index, future, *quotes) if q is not None]
        ts_event = max(q.ts_exchange_ns for q in heard)
        calls, puts = _SideColumns(), _SideColumns()
        for position, (option, quote) in enumerate(zip(options, quotes, strict=True)):
            stale = self._is_stale(option, quote, ts_event, newly_stale)
            (calls if position < len(chain.calls) else puts).add(quote, stale)
        for contract in (plan.indexes[chain.underlying], future_instrument):
            self._is_stale(contract, self._latest.get(contract.token) if contract else None,
                           ts_event, newly_stale)  # fmt: skip
        lot_size = next((o.lot_size for o in options if o is not None), 0)
        return OptionChainSnapshot(
            event_id=derived_event_id(self._run_id, "chain", chain.underlying, chain.expiry,
                                      self._flushes),
            ts_event=ts_event, ts_init=0, schema_version=SCHEMA_WITH_STALE_MARKS,
            underlying=chain.underlying, expiry=chain.expiry, spot=_price(index),
            futures=_price(future) if future is not None else _price(index), lot_size=lot_size,
            strikes=list(chain.strikes), calls=calls.side(), puts=puts.side(),
        )  # fmt: skip

    def _is_stale(
        self,
        instrument: Instrument | None,
        quote: QuoteTick | None,
        now_ns: int,
        newly_stale: list[Instrument],
    ) -> bool:
        """Whether ``quote`` is older than the stale age; notes a contract's first stale flush."""
        if instrument is None or quote is None:
            return False
        stale = now_ns - quote.ts_exchange_ns > self._stale_ns
        if not stale:
            self._stale.discard(instrument.token)
        elif instrument.token not in self._stale:
            self._stale.add(instrument.token)
            newly_stale.append(instrument)
        return stale
