"""One contract's quote, implied volatility and Greeks, read off a ChainGreeks event.

A chain carries one futures price, that of the index future its expiry's month settles
against; a future is quoted by the chain of its own expiry (the monthly chain), at that price
on both sides (the snapshot has no futures book): bid, ask and last are the futures price,
delta is 1 a unit and the other Greeks 0. The displayed size is ``FUTURES_DISPLAYED_UNITS``:
index futures trade far deeper than any order optbus places, so size never limits a fill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from optbus.events import INT4_MAX, ChainGreeks, ChainSide, Contract, SideGreeks

ChainKey = tuple[str, date]
"""A chain's identity: (underlying, expiry)."""

_STRIKE_TOLERANCE = 1e-6

FUTURES_DISPLAYED_UNITS = INT4_MAX
"""The size shown on each side of a futures quote (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """One option at one instant: touch, sizes, last, IV, Greeks and its chain's facts."""

    contract: Contract
    ts: int
    bid: float
    ask: float
    bid_size: int
    ask_size: int
    last: float
    iv: float | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    spot: float
    forward: float
    rate: float
    time_to_expiry: float
    pcr: float | None
    open_interest: int

    @property
    def has_bid(self) -> bool:
        """Whether someone is bidding (a price and a size)."""
        return self.bid > 0.0 and self.bid_size > 0

    @property
    def has_ask(self) -> bool:
        """Whether someone is offering (a price and a size)."""
        return self.ask > 0.0 and self.ask_size > 0

    @property
    def two_sided(self) -> bool:
        """Whether both a bid and an ask are quoted (and not crossed)."""
        return self.bid > 0 and self.ask > 0 and self.ask >= self.bid

    @property
    def mid(self) -> float | None:
        """The mid of bid and ask, or None without a two-sided quote."""
        return (self.bid + self.ask) / 2 if self.two_sided else None

    @property
    def reference_price(self) -> float | None:
        """The price the exchange's band is centred on: last traded, else the mid."""
        return self.last if self.last > 0 else self.mid

    @property
    def mark(self) -> float | None:
        """The price a position is valued at: the mid, else the last traded price."""
        mid = self.mid
        if mid is not None:
            return mid
        return self.last if self.last > 0 else None

    @property
    def indicative_price(self) -> float:
        """A price for the record even when one-sided: the mid, the one side there is, or last."""
        if self.has_bid and self.has_ask:
            return (self.bid + self.ask) / 2.0
        if self.has_ask:
            return self.ask
        if self.has_bid:
            return self.bid
        return self.last


def chain_key(contract: Contract) -> ChainKey:
    """The key of the chain that quotes ``contract``."""
    return (contract.underlying, contract.expiry)


def key_of_chain(chain: ChainGreeks) -> ChainKey:
    """The key of a ChainGreeks event."""
    return (chain.snapshot.underlying, chain.snapshot.expiry)


def strike_index(strikes: list[float], strike: float) -> int | None:
    """Where ``strike`` sits in a chain's strikes, or None when the chain does not list it."""
    for index, listed in enumerate(strikes):
        if math.isclose(listed, strike, rel_tol=0.0, abs_tol=_STRIKE_TOLERANCE):
            return index
    return None


def quote_at(chain: ChainGreeks, contract: Contract, index: int) -> OptionQuote:
    """The quote of ``contract``, which ``chain`` lists at strike position ``index``."""
    is_call = contract.option_type == "CE"
    side: ChainSide = chain.snapshot.calls if is_call else chain.snapshot.puts
    greeks: SideGreeks = chain.calls if is_call else chain.puts
    return OptionQuote(
        contract=contract, ts=chain.ts_event, bid=side.bid[index], ask=side.ask[index],
        bid_size=side.bid_size[index], ask_size=side.ask_size[index], last=side.last[index],
        iv=greeks.iv[index], delta=greeks.delta[index], gamma=greeks.gamma[index],
        theta=greeks.theta[index], vega=greeks.vega[index], spot=chain.snapshot.spot,
        forward=chain.forward, rate=chain.rate, time_to_expiry=chain.time_to_expiry,
        pcr=chain.aggregates.pcr_open_interest, open_interest=side.open_interest[index],
    )  # fmt: skip


def futures_quote(chain: ChainGreeks, contract: Contract) -> OptionQuote | None:
    """The quote of the future ``contract`` at ``chain``'s futures price (None without one)."""
    price = chain.snapshot.futures
    if not price > 0.0:
        return None
    size = FUTURES_DISPLAYED_UNITS
    return OptionQuote(
        contract=contract, ts=chain.ts_event, bid=price, ask=price, bid_size=size,
        ask_size=size, last=price, iv=None, delta=1.0, gamma=0.0, theta=0.0, vega=0.0,
        spot=chain.snapshot.spot, forward=price, rate=chain.rate,
        time_to_expiry=chain.time_to_expiry, pcr=chain.aggregates.pcr_open_interest,
        open_interest=0,
    )  # fmt: skip


def quote_in_chain(chain: ChainGreeks, contract: Contract) -> OptionQuote | None:
    """The quote of ``contract`` in ``chain``, or None when the chain does not list it."""
    if key_of_chain(chain) != chain_key(contract):
        return None
    if contract.option_type == "FUT":
        return futures_quote(chain, contract)
    index = strike_index(chain.snapshot.strikes, contract.strike)
    return None if index is None else quote_at(chain, contract, index)
