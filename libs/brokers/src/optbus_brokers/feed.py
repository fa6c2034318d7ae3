"""The market-data feed port: what a broker adapter gives the market-data service.

A broker adapter logs in, lists its instrument master as ``Instrument``s and opens a
``FeedConnection`` that yields what arrives on the broker's stream, decoded: a ``QuoteTick`` per
quote, or a ``DroppedFrame`` naming why a frame was not usable. The service owns everything a
broker does not define: which instruments to follow, reconnecting with backoff, conflating
ticks into chain snapshots, stale quotes and the metrics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

InstrumentKind = Literal["index", "future", "call", "put"]


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable or quoted instrument as a broker's instrument master lists it.

    ``token`` is the broker's identifier of the instrument on its ``segment`` (the exchange
    segment in the broker's own spelling, e.g. ``NFO``); ``symbol`` is the broker's trading
    symbol. Quantities are in units: a lot is ``lot_size`` units.
    """

    token: str
    segment: str
    symbol: str
    underlying: str
    kind: InstrumentKind
    expiry: date | None
    strike: float | None
    lot_size: int
    tick_size: float


@dataclass(frozen=True, slots=True)
class QuoteTick:
    """One quote of one instrument, as the broker's stream sent it, in rupees and units.

    ``ts_exchange_ns`` is the exchange's time of the quote (nanoseconds since the Unix epoch,
    UTC). A side with no quote has ``None`` price and size 0.
    """

    token: str
    ts_exchange_ns: int
    last: float
    bid: float | None
    ask: float | None
    bid_size: int
    ask_size: int
    volume: int
    open_interest: int
    upper_circuit: float | None = None
    lower_circuit: float | None = None


@dataclass(frozen=True, slots=True)
class DroppedFrame:
    """A frame the adapter could not turn into a quote (truncated, unknown mode, ...)."""

    reason: str


FeedItem = QuoteTick | DroppedFrame


class FeedDisconnected(Exception):
    """The broker's stream ended or failed; the service reconnects with backoff."""


class FeedLoginFailed(Exception):
    """The broker refused the credentials; retrying will not help until they change."""


class FeedConnection(Protocol):
    """One open connection to a broker's market stream.

    ``items`` yields until the connection drops, then raises ``FeedDisconnected``. The adapter
    answers the broker's heartbeats itself.
    """

    async def subscribe(self, instruments: Sequence[Instrument]) -> None: ...

    async def unsubscribe(self, instruments: Sequence[Instrument]) -> None: ...

    def items(self) -> AsyncIterator[FeedItem]: ...

    async def close(self) -> None: ...


class BrokerFeed(Protocol):
    """A broker's market data: its login, its instrument master and its stream."""

    @property
    def name(self) -> str:
        """The broker as settings spell it: ``angel-one``, ``kotak-neo``, ``icici-breeze``."""
        ...

    @property
    def max_subscriptions(self) -> int:
        """How many instruments one connection may follow (the broker's documented limit)."""
        ...

    async def login(self) -> None:
        """Log in (or refresh the session); raises ``FeedLoginFailed`` on refused credentials."""
        ...

    async def load_instruments(self) -> list[Instrument]:
        """The broker's instrument master, for the index, futures and options it lists."""
        ...

    async def connect(self) -> FeedConnection:
        """Open the market stream with the current session."""
        ...
