"""A chain with Greeks as numpy columns, and the quote-based prices strategies trade at.

A futures contract (``option_type`` "FUT") is read at the chain's one futures price, on both
sides, with a delta of 1 a unit: the chain carries the price of the future its month settles
against, the one a strategy hedges with (``StrategyContext.futures_contract``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np
from numpy.typing import NDArray

from optbus.events import ChainGreeks, ChainSide, Contract, OptionType, Side, SideGreeks
from optbus_strategy.params import Pricing

FloatArray = NDArray[np.float64]

_MINUTES_PER_YEAR = 365 * 24 * 60
_STRIKE_TOLERANCE = 1e-6


class SideView:
    """One side of a chain as arrays (NaN where a value does not exist).

    Each column is converted from the event's lists when first read: a strategy reads a few
    columns of most chains, and the conversion costs more than the reading.
    """

    __slots__ = ("_columns", "_greeks", "_quotes")

    def __init__(self, quotes: ChainSide, greeks: SideGreeks) -> None:
        self._quotes = quotes
        self._greeks = greeks
        self._columns: dict[str, FloatArray] = {}

    @property
    def bid(self) -> FloatArray:
        """Best bids (0 where nobody bids)."""
        return self._column("bid", self._quotes.bid)

    @property
    def ask(self) -> FloatArray:
        """Best asks (0 where nobody offers)."""
        return self._column("ask", self._quotes.ask)

    @property
    def last(self) -> FloatArray:
        """Last traded prices."""
        return self._column("last", self._quotes.last)

    @property
    def open_interest(self) -> FloatArray:
        """Open interest, in units."""
        return self._column("open_interest", self._quotes.open_interest)

    @property
    def iv(self) -> FloatArray:
        """Implied volatilities."""
        return self._column("iv", self._greeks.iv)

    @property
    def delta(self) -> FloatArray:
        """Deltas."""
        return self._column("delta", self._greeks.delta)

    @property
    def gamma(self) -> FloatArray:
        """Gammas."""
        return self._column("gamma", self._greeks.gamma)

    @property
    def mid(self) -> FloatArray:
        """Mids of two-sided, uncrossed quotes."""
        mid = self._columns.get("mid")
        if mid is None:
            bid, ask = self.bid, self.ask
            quoted = (bid > 0) & (ask >= bid)
            mid = self._columns["mid"] = np.where(quoted, (bid + ask) / 2, np.nan)
        return mid

    def touch_at(self, index: int) -> tuple[float, float, float]:
        """Bid, ask and last of the option at ``index`` (read without building columns)."""
        quotes = self._quotes
        return float(quotes.bid[index]), float(quotes.ask[index]), float(quotes.last[index])

    def delta_at(self, index: int) -> float:
        """Delta of the option at ``index``, NaN where it has none."""
        value = self._greeks.delta[index]
        return math.nan if value is None else float(value)

    def _column(self, name: str, values: Sequence[float | None]) -> FloatArray:
        column = self._columns.get(name)
        if column is None:
            column = self._columns[name] = np.asarray(values, dtype=np.float64)
        return column


class ChainView:
    """Read-only columns of a ``ChainGreeks`` with lookups by contract."""

    def __init__(self, chain: ChainGreeks) -> None:
        snapshot = chain.snapshot
        self.chain: ChainGreeks = chain
        self.underlying: str = snapshot.underlying
        self.expiry: date = snapshot.expiry
        self.spot: float = snapshot.spot
        self.forward: float = chain.forward
        self.futures: float = snapshot.futures
        self.strikes = np.asarray(snapshot.strikes, dtype=np.float64)
        self.calls = SideView(snapshot.calls, chain.calls)
        self.puts = SideView(snapshot.puts, chain.puts)
        self._separated: bool | None = None

    @property
    def minutes_to_expiry(self) -> float:
        """Calendar minutes from this chain to its expiry's close."""
        return float(self.chain.time_to_expiry) * _MINUTES_PER_YEAR

    def side(self, option_type: OptionType) -> SideView:
        """The calls (``CE``) or the puts (``PE``)."""
        return self.calls if option_type == "CE" else self.puts

    def contract(self, index: int, option_type: OptionType) -> Contract:
        """The contract at strike ``index`` of this chain."""
        return Contract(
            underlying=self.underlying,
            expiry=self.expiry,
            strike=float(self.strikes[index]),
            option_type=option_type,
        )

    def index_of(self, strike: float) -> int | None:
        """The index of ``strike`` in the chain, or None when it is not listed."""
        if self._strikes_separated():
            # Then a strike listed exactly is the only one within the tolerance.
            try:
                return self.chain.snapshot.strikes.index(strike)
            except ValueError:
                pass
        hits = np.flatnonzero(np.abs(self.strikes - strike) < _STRIKE_TOLERANCE)
        return int(hits[0]) if hits.size else None

    def _strikes_separated(self) -> bool:
        """Whether no two strikes lie within the tolerance of each other."""
        if self._separated is None:
            strikes = self.strikes
            # Strikes are listed ascending as a rule: then the neighbours' gaps tell.
            separated = strikes.size < 2 or (strikes[1:] - strikes[:-1]).min() >= _STRIKE_TOLERANCE
            if not separated:
                ordered = np.sort(strikes)
                separated = (ordered[1:] - ordered[:-1]).min() >= _STRIKE_TOLERANCE
            self._separated = bool(separated)
        return self._separated

    def atm_index(self) -> int:
        """The index of the strike nearest the forward."""
        return int(np.argmin(np.abs(self.strikes - self.forward)))

    def mark(self, contract: Contract) -> float | None:
        """The contract's fair price now; None when it is not listed or has no price at all.

        The mid of a two-sided quote; else the last trade; else half the ask (an option
        offered with no bid is worth between nothing and the ask).
        """
        touch = self._touch(contract)
        if touch is None:
            return None
        bid, ask, last = touch
        mid = (bid + ask) / 2 if bid > 0 and ask >= bid else math.nan
        if math.isfinite(mid):
            return mid
        if last > 0:
            return last
        return ask / 2 if ask > 0 else None

    def delta(self, contract: Contract) -> float | None:
        """The contract's delta now, or None when it has none (a future's is 1)."""
        if contract.option_type == "FUT":
            return 1.0 if contract.underlying == self.underlying else None
        index = self.index_of(contract.strike)
        if index is None or contract.expiry != self.expiry:
            return None
        value = self.side(contract.option_type).delta_at(index)
        return value if math.isfinite(value) else None

    def limit_price(
        self, contract: Contract, side: Side, pricing: Pricing, tick: float
    ) -> float | None:
        """A limit price from the quote, on the tick; None when that side is not quoted (or
        the contract is not of this chain's expiry).

        ``mid``: the mid, rounded towards the touch we would cross (up to buy, down to sell);
        ``touch``: the ask to buy, the bid to sell.
        """
        if contract.option_type == "FUT":
            quote = self._touch(contract)
        elif contract.expiry != self.expiry:
            quote = None  # another expiry's quotes are on its own chain
        else:
            index = self.index_of(contract.strike)
            quote = None if index is None else self.side(contract.option_type).touch_at(index)
        if quote is None:
            return None
        bid, ask, _ = quote
        if not (bid > 0 and ask >= bid):
            return None
        touch = ask if side == "BUY" else bid
        price = touch if pricing == "touch" else (bid + ask) / 2
        return round_to_tick(price, tick, up=side == "BUY")

    def _touch(self, contract: Contract) -> tuple[float, float, float] | None:
        """Bid, ask and last of ``contract``; None when this chain does not quote it."""
        if contract.option_type == "FUT":
            if contract.underlying != self.underlying or not self.futures > 0:
                return None
            return self.futures, self.futures, self.futures
        index = self.index_of(contract.strike)
        if index is None or contract.expiry != self.expiry:
            return None
        return self.side(contract.option_type).touch_at(index)


def round_to_tick(price: float, tick: float, *, up: bool) -> float:
    """``price`` on the ``tick`` grid, rounded up or down, never below one tick."""
    steps = price / tick
    nearest = round(steps)
    if math.isclose(steps, nearest, abs_tol=1e-9):
        whole = nearest
    else:
        whole = math.ceil(steps) if up else math.floor(steps)
    return round(max(whole, 1) * tick, 10)
