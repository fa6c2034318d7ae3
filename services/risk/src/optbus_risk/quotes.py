"""The latest quote of a contract among the chains risk has seen."""

from __future__ import annotations

from collections.abc import Mapping

from optbus.events import ChainGreeks, Contract
from optbus.quotes import ChainKey, OptionQuote, chain_key, quote_in_chain


def latest_quote(chains: Mapping[ChainKey, ChainGreeks], contract: Contract) -> OptionQuote | None:
    """The latest quote of ``contract`` among the chains seen, or None if never quoted."""
    chain = chains.get(chain_key(contract))
    return None if chain is None else quote_in_chain(chain, contract)
