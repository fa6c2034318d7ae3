"""The quotes risk reads: a contract's latest chain, else the last quote before it was delisted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from optbus.events import ChainGreeks, Contract, OptionType, OrderIntent
from optbus.quotes import (
    ChainKey,
    OptionQuote,
    chain_key,
    key_of_chain,
    quote_at,
    quote_in_chain,
    strike_index,
)

_OPTION_TYPES: tuple[OptionType, ...] = ("CE", "PE")


def latest_quote(chains: Mapping[ChainKey, ChainGreeks], contract: Contract) -> OptionQuote | None:
    """The latest quote of ``contract`` among the chains seen, or None if never quoted."""
    chain = chains.get(chain_key(contract))
    return None if chain is None else quote_in_chain(chain, contract)


@dataclass(frozen=True, slots=True)
class Marks:
    """Where a contract is marked: its latest chain, else the last quote of a chain that
    listed it before (a feed that stops quoting a strike does not make a position vanish)."""

    chains: Mapping[ChainKey, ChainGreeks]
    delisted: Mapping[Contract, OptionQuote] = field(default_factory=dict)

    def quote(self, contract: Contract) -> OptionQuote | None:
        """The latest quote of ``contract``, current or last known; None if never quoted."""
        current = latest_quote(self.chains, contract)
        return current if current is not None else self.delisted.get(contract)

    def stale(self, contracts: Iterable[Contract]) -> list[OptionQuote]:
        """The last known quotes standing in for those ``contracts`` no chain lists now."""
        if not self.delisted:
            return []
        return [
            quote
            for contract in contracts
            if (quote := self.delisted.get(contract)) is not None
            and latest_quote(self.chains, contract) is None
        ]

    def for_intent(self, intent: OrderIntent) -> Marks:
        """The marks an intent is measured with: an opening intent gets no last known quote of
        a contract it trades (it must not open on a price the market no longer shows)."""
        if intent.purpose == "close" or not self.delisted:
            return self
        traded = {leg.contract for leg in intent.legs}
        kept = {c: q for c, q in self.delisted.items() if c not in traded}
        return Marks(chains=self.chains, delisted=kept)


def delisted_quotes(
    known: Mapping[Contract, OptionQuote], old: ChainGreeks, new: ChainGreeks, today: date
) -> dict[Contract, OptionQuote]:
    """``known`` plus the last quotes in ``old`` of the strikes that ``new`` (the next chain of
    the same expiry) no longer lists; less what ``new`` lists again and what expired before
    ``today``."""
    listed = new.snapshot.strikes
    key = key_of_chain(new)
    kept = {
        contract: quote
        for contract, quote in known.items()
        if contract.expiry >= today
        and not (chain_key(contract) == key and strike_index(listed, contract.strike) is not None)
    }
    for index, strike in enumerate(old.snapshot.strikes):
        if strike_index(listed, strike) is None:
            for option_type in _OPTION_TYPES:
                contract = Contract(
                    underlying=old.snapshot.underlying, expiry=old.snapshot.expiry,
                    strike=strike, option_type=option_type,
                )  # fmt: skip
                kept[contract] = quote_at(old, contract, index)
    return kept
