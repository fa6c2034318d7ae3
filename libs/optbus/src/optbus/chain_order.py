"""Priced chains in their market order, per chain, when greeks runs as several replicas.

Replicas of greeks share one durable consumer: two snapshots of the same chain a second apart
may go to two replicas, and the later one may be priced and published first. A trading
service that acted on the earlier one after it would mark, fill or trade on a price the market
had already moved past. So its chain handler sees each chain (underlying and expiry) only
move forward in market time: a chain older than the newest of its kind already handled is
passed over, as a conflating feed would have dropped it. Pure: the newest times live in the
guard, which each consumer makes for itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from optbus.events import ChainGreeks, Event
from optbus.quotes import ChainKey, key_of_chain

EventT = TypeVar("EventT", bound=Event)


class NewestChainsOnly(Generic[EventT]):
    """Wraps a handler so that a ``ChainGreeks`` older (by the market time of its snapshot)
    than the newest of the same underlying and expiry handled already gives nothing. Other
    events, and a chain of the same time again, pass as before."""

    def __init__(self, handle: Callable[[EventT], Sequence[Event]]) -> None:
        self._handle = handle
        self._newest_ns: dict[ChainKey, int] = {}

    def __call__(self, event: EventT) -> Sequence[Event]:
        """Handle ``event`` unless it is a chain that arrived after a newer one of its own."""
        if isinstance(event, ChainGreeks):
            key, market_ns = key_of_chain(event), event.snapshot.ts_event
            newest = self._newest_ns.get(key)
            if newest is not None and market_ns < newest:
                return []
            self._newest_ns[key] = market_ns
        return self._handle(event)
