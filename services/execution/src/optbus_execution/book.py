"""The market book: the latest quote, IV and Greeks of every contract, and the latest India VIX.

It keeps the latest ``ChainGreeks`` per underlying and expiry (one dictionary write per chain,
whatever its size) and reads a contract's quote out of it on demand, so that following the
market costs almost nothing between orders.

Every chain carries the price of one index future (``MarketFacts.futures_expiry`` names it), so
a future is quoted by the latest chain that carries its price, whichever expiry that chain is
of: a hedge ordered on a weekly chain finds its future as fresh as that chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from optbus.events import (
    ChainGreeks,
    Contract,
    MarketContext,
    VolatilityIndexTick,
)
from optbus.market import MarketFactsError
from optbus.quotes import ChainKey, OptionQuote, futures_quote, quote_at


@dataclass(frozen=True, slots=True)
class _Chain:
    event: ChainGreeks
    strike_index: dict[float, int]


class MarketBook:
    """The latest market per contract, fed by chain and VIX events; answers freshness questions."""

    def __init__(
        self,
        max_quote_age_ns: int,
        vix_index: str = "INDIAVIX",
        futures_expiry: Callable[[str, date], date] | None = None,
    ) -> None:
        self._max_quote_age_ns = max_quote_age_ns
        self._vix_index = vix_index
        self._futures_expiry = futures_expiry
        self._futures_keys: dict[ChainKey, ChainKey] = {}
        self._futures: dict[ChainKey, ChainGreeks] = {}
        self._chains: dict[ChainKey, _Chain] = {}
        self._vix: float | None = None
        self._market_time_ns = 0

    @property
    def market_time_ns(self) -> int:
        """The latest source time seen on any market event (0 before the first)."""
        return self._market_time_ns

    @property
    def india_vix(self) -> float | None:
        """The latest value of the volatility index (None before the first tick)."""
        return self._vix

    def on_chain(self, chain: ChainGreeks) -> None:
        """Take a chain as the latest market of its underlying and expiry."""
        snapshot = chain.snapshot
        key = (snapshot.underlying, snapshot.expiry)
        previous = self._chains.get(key)
        if previous is not None and previous.event.ts_event > chain.ts_event:
            return  # an older chain delivered late never replaces a newer one
        if previous is not None and previous.event.snapshot.strikes == snapshot.strikes:
            strike_index = previous.strike_index
        else:
            strike_index = {strike: i for i, strike in enumerate(snapshot.strikes)}
        self._chains[key] = _Chain(chain, strike_index)
        self._market_time_ns = max(self._market_time_ns, chain.ts_event)
        self._take_futures_price(key, chain)

    def _take_futures_price(self, key: ChainKey, chain: ChainGreeks) -> None:
        """Keep ``chain`` as the latest carrier of its future's price (see the module doc)."""
        if self._futures_expiry is None:
            return
        future = self._futures_keys.get(key)
        if future is None:
            try:
                future = self._futures_keys[key] = (key[0], self._futures_expiry(*key))
            except MarketFactsError:
                return  # an underlying without monthly contracts on file quotes no future
        latest = self._futures.get(future)
        if latest is None or latest.ts_event <= chain.ts_event:
            self._futures[future] = chain

    def _futures_carrier(self, contract: Contract) -> ChainGreeks | None:
        """The latest chain that carries the price of the future ``contract``."""
        key = (contract.underlying, contract.expiry)
        carrier = self._futures.get(key)
        if carrier is not None:
            return carrier
        own = self._chains.get(key)
        return None if own is None else own.event

    def on_vix(self, tick: VolatilityIndexTick) -> None:
        """Take a volatility index tick (only the configured index counts)."""
        if tick.index != self._vix_index:
            return
        self._vix = tick.value
        self._market_time_ns = max(self._market_time_ns, tick.ts_event)

    def quote(self, contract: Contract) -> OptionQuote | None:
        """The latest quote of ``contract``, or None when its chain or strike was never seen."""
        if contract.option_type == "FUT":
            carrier = self._futures_carrier(contract)
            return None if carrier is None else futures_quote(carrier, contract)
        chain = self._chains.get((contract.underlying, contract.expiry))
        if chain is None:
            return None
        i = chain.strike_index.get(contract.strike)
        if i is None:
            return None
        return quote_at(chain.event, contract, i)

    def quote_age_ns(self, contract: Contract, at_ns: int) -> int | None:
        """How old the latest quote of ``contract`` is at ``at_ns`` (None when there is none)."""
        if contract.option_type == "FUT":
            carrier = self._futures_carrier(contract)
            return None if carrier is None else max(0, at_ns - carrier.ts_event)
        chain = self._chains.get((contract.underlying, contract.expiry))
        if chain is None or contract.strike not in chain.strike_index:
            return None
        return max(0, at_ns - chain.event.ts_event)

    def is_fresh(self, contract: Contract, at_ns: int) -> bool:
        """Whether ``contract`` has a quote at most the configured age old at ``at_ns``."""
        age = self.quote_age_ns(contract, at_ns)
        return age is not None and age <= self._max_quote_age_ns

    def context(self, contract: Contract, at_ns: int) -> MarketContext | None:
        """The market of ``contract`` as known at ``at_ns`` (None when it has no quote)."""
        quote = self.quote(contract)
        if quote is None:
            return None
        return context_of(quote, at_ns, self._vix)


def context_of(quote: OptionQuote, at_ns: int, india_vix: float | None) -> MarketContext:
    """A quote as the market context of a position at ``at_ns`` (option price: the mid)."""
    return MarketContext(
        ts=at_ns,
        option_price=quote.indicative_price,
        iv=quote.iv,
        delta=quote.delta,
        gamma=quote.gamma,
        theta=quote.theta,
        vega=quote.vega,
        spot=quote.spot,
        forward=quote.forward,
        india_vix=india_vix,
        pcr=quote.pcr,
        open_interest=quote.open_interest,
    )
