"""Historical bars into chain snapshots: trades in, two-sided quotes modelled, each one marked.

Breeze's history holds trades (OHLC, volume, open interest), no bid or ask. A snapshot is made
at the close of each index bar (its open plus the interval: nothing in it is known earlier).
For every strike within ``strikes_each_side`` steps of the money at that bar:

- an option that traded in that same bar gets a quote synthesised around the bar's close by
  ``SpreadRule``, marked ``synthetic``, and sized on each side by what traded in the bar (in
  whole lots, at least one): the stand-in for the depth a live quote would have shown;
- an option that did not trade in it has no quote (bid, ask and sizes 0), and keeps its last
  close and open interest, as a live feed shows a contract that is not being quoted;
- ``volume`` is the day's traded volume up to that bar.

The futures price is the near-month future's latest close (the spot before its first bar).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from optbus.events import ChainSide, OptionChainSnapshot
from optbus.ids import derived_event_id
from optbus_brokers.icici_breeze.history import Bar, Right

_MAX_UNITS = 2**31 - 1  # a size is an ``integer`` column
_CHAIN_SCHEMA_VERSION: Final[Literal[3]] = 3  # the first version that carries ``synthetic`` marks


@dataclass(frozen=True, slots=True)
class SpreadRule:
    """The modelled spread: ``max(min_ticks ticks, fraction of the price)`` wide, so half of it
    each side of the traded price; the bid rounded down and the ask up to the tick, the bid at
    least one tick and the ask at least a tick above the bid."""

    # NIFTY's near-the-money weeklies trade a tick or two wide at ₹100-200: 0.1% of the price,
    # at least a tick, is that order; a test of a strategy's sensitivity sweeps it.
    fraction: float = 0.001
    min_ticks: int = 1

    def quote(self, price: float, tick: float) -> tuple[float, float]:
        """The synthesised (bid, ask) around ``price``."""
        half = max(self.min_ticks * tick, price * self.fraction) / 2
        bid = max(math.floor((price - half) / tick + 1e-9) * tick, tick)
        ask = max(math.ceil((price + half) / tick - 1e-9) * tick, bid + tick)
        return round(bid, 2), round(ask, 2)


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """What a chain's snapshots are made with: the contract's facts and the import's choices."""

    underlying: str
    expiry: date
    lot_size: int
    strike_step: float
    tick_size: float
    strikes_each_side: int
    interval_ns: int
    spread: SpreadRule


def strikes_around(spot: float, step: float, each_side: int) -> list[float]:
    """The strike nearest ``spot`` and ``each_side`` strikes below and above it."""
    atm = round(spot / step) * step
    return [atm + offset * step for offset in range(-each_side, each_side + 1)]


def chain_snapshots(
    spec: ChainSpec,
    index_bars: Sequence[Bar],
    futures_bars: Sequence[Bar],
    option_bars: Mapping[tuple[float, Right], Sequence[Bar]],
) -> list[OptionChainSnapshot]:
    """One snapshot per index bar, at its close, from the bars of the day."""
    futures = {bar.open_ns: bar.close for bar in futures_bars}
    by_time = {
        contract: {bar.open_ns: bar for bar in bars} for contract, bars in option_bars.items()
    }
    latest: dict[tuple[float, Right], Bar] = {}
    traded: dict[tuple[float, Right], int] = {}
    futures_price = 0.0
    snapshots: list[OptionChainSnapshot] = []
    for index_bar in index_bars:
        opened = index_bar.open_ns
        futures_price = futures.get(opened, futures_price) or index_bar.close
        for contract, bars in by_time.items():
            bar = bars.get(opened)
            if bar is not None:
                latest[contract] = bar
                traded[contract] = traded.get(contract, 0) + bar.volume
        strikes = strikes_around(index_bar.close, spec.strike_step, spec.strikes_each_side)
        sides = [_side(spec, strikes, right, opened, latest, traded) for right in ("call", "put")]
        ts = opened + spec.interval_ns
        snapshots.append(
            OptionChainSnapshot(
                event_id=derived_event_id("breeze-history", spec.underlying, spec.expiry, ts),
                ts_event=ts,
                ts_init=ts,
                schema_version=_CHAIN_SCHEMA_VERSION,
                underlying=spec.underlying,
                expiry=spec.expiry,
                spot=index_bar.close,
                futures=futures_price,
                lot_size=spec.lot_size,
                strikes=strikes,
                calls=sides[0],
                puts=sides[1],
            )
        )
    return snapshots


def _side(
    spec: ChainSpec,
    strikes: list[float],
    right: Right,
    opened: int,
    latest: Mapping[tuple[float, Right], Bar],
    traded: Mapping[tuple[float, Right], int],
) -> ChainSide:
    bid: list[float] = []
    ask: list[float] = []
    last: list[float] = []
    size: list[int] = []
    open_interest: list[int] = []
    synthetic: list[bool] = []
    for strike in strikes:
        bar = latest.get((strike, right))
        quoted = bar is not None and bar.open_ns == opened
        low, high = spec.spread.quote(bar.close, spec.tick_size) if bar and quoted else (0.0, 0.0)
        bid.append(low)
        ask.append(high)
        last.append(bar.close if bar else 0.0)
        size.append(_displayed_size(bar.volume, spec.lot_size) if bar and quoted else 0)
        open_interest.append(bar.open_interest if bar else 0)
        synthetic.append(quoted)
    return ChainSide(
        bid=bid,
        ask=ask,
        last=last,
        bid_size=size,
        ask_size=list(size),
        volume=[traded.get((strike, right), 0) for strike in strikes],
        open_interest=open_interest,
        synthetic=synthetic,
    )


def _displayed_size(volume: int, lot_size: int) -> int:
    """A bar's traded volume as a quote's size: whole lots, at least one, within ``Units``."""
    return max(lot_size, min(volume, _MAX_UNITS) // lot_size * lot_size)
