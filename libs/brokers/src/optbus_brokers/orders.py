"""The order port: what a broker adapter gives the execution service to trade for real.

An adapter places, modifies and cancels orders at its broker, reads back the broker's order
book, trades, positions and margin, and streams order updates where the broker has a stream.
Everything is in optbus's units: quantities in units (not lots), prices in rupees, times in
nanoseconds since the Unix epoch (UTC). The execution service owns the rest: which orders to
send, slicing at the freeze quantity, rate limits, protection of market intents, the order
state it folds into ``exec.*`` events, reconciliation and what to do on each fault.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from optbus_brokers.feed import Instrument

OrderSide = Literal["buy", "sell"]
BrokerOrderStatus = Literal["pending", "open", "complete", "cancelled", "rejected"]
"""A broker's order states, normalised: ``pending`` (received, not yet at the exchange),
``open`` (working at the exchange, possibly partly filled), and the three final states."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A limit order as optbus sends it; market intents are turned into protected limit
    orders before they get here (no naked market order for an option).

    ``client_order_id`` is optbus's own id: an adapter stores it in the broker's order tag
    field where the broker has one, so that an order placed twice can be found by it.
    """

    client_order_id: str
    instrument: Instrument
    side: OrderSide
    quantity: int
    limit_price: float
    algo_id: str | None = None


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """One order as the broker's order book (or its order-update stream) shows it."""

    broker_order_id: str
    client_order_id: str | None
    token: str
    side: OrderSide
    quantity: int
    filled_quantity: int
    limit_price: float
    average_price: float | None
    status: BrokerOrderStatus
    reason: str | None
    ts_update_ns: int


@dataclass(frozen=True, slots=True)
class BrokerTrade:
    """One execution of an order, with the broker's (exchange's) trade id."""

    broker_trade_id: str
    broker_order_id: str
    token: str
    side: OrderSide
    quantity: int
    price: float
    ts_exchange_ns: int


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    """A net position the broker holds for the account: positive long, negative short."""

    token: str
    symbol: str
    net_quantity: int
    average_price: float


@dataclass(frozen=True, slots=True)
class BrokerCharges:
    """What the broker reports it charged for one order (its contract note), in rupees."""

    broker_order_id: str
    brokerage: float
    exchange_charges: float
    sebi_fee: float
    stt: float
    stamp_duty: float
    gst: float

    @property
    def total(self) -> float:
        """Every charge together."""
        return (
            self.brokerage + self.exchange_charges + self.sebi_fee + self.stt
            + self.stamp_duty + self.gst
        )  # fmt: skip


OrderUpdate = BrokerOrder | BrokerTrade


class OrderRefused(Exception):
    """The broker answered and refused the request (margin, freeze quantity, price band, ...);
    ``reason`` is the broker's own text. Nothing was placed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BrokerUnavailable(Exception):
    """The broker did not answer in time or could not be reached. For a placement the order's
    fate is unknown: the caller queries the order book (by client order id) before deciding,
    and never simply sends it again."""


class OrderUpdateConnection(Protocol):
    """An open order-update stream: yields until it drops, then raises ``BrokerUnavailable``."""

    def items(self) -> AsyncIterator[OrderUpdate]: ...

    async def close(self) -> None: ...


class BrokerOrders(Protocol):
    """A broker's order API, behind which the execution service trades."""

    @property
    def name(self) -> str:
        """The broker as settings spell it: ``angel-one``, ``kotak-neo``, ``icici-breeze``."""
        ...

    @property
    def orders_per_second(self) -> float:
        """The most orders per second the broker (and the exchange's retail-algo rules) allow."""
        ...

    @property
    def has_order_updates(self) -> bool:
        """Whether ``connect_order_updates`` is a real stream; else the caller polls."""
        ...

    def remember(self, client_order_ids: Iterable[str]) -> None:
        """Be told the client order ids of orders placed before this process started (those
        the log still has working), so that their rows in the book carry them again. A broker
        that stores only a digest of the id in its tag needs this after a restart; one that
        echoes the id itself ignores it."""
        ...

    async def login(self) -> None:
        """Log in (or refresh the session); raises ``FeedLoginFailed`` on refused credentials."""
        ...

    async def place(self, request: OrderRequest) -> str:
        """Place ``request``; returns the broker's order id. Raises ``OrderRefused`` or
        ``BrokerUnavailable`` (fate unknown)."""
        ...

    async def modify(self, broker_order_id: str, quantity: int, limit_price: float) -> None:
        """Change a working order's quantity or limit price."""
        ...

    async def cancel(self, broker_order_id: str) -> None:
        """Cancel a working order (cancelling a final order is refused by the broker)."""
        ...

    async def order_book(self) -> list[BrokerOrder]:
        """Today's orders of the account."""
        ...

    async def trades(self) -> list[BrokerTrade]:
        """Today's executions of the account."""
        ...

    async def positions(self) -> list[BrokerPosition]:
        """The account's open F&O positions."""
        ...

    async def available_margin(self) -> float:
        """Margin available for new positions, in rupees (the broker's RMS/limits call)."""
        ...

    async def charges(self, broker_order_id: str) -> BrokerCharges | None:
        """The charges the broker reports for an order, where it reports them."""
        ...

    async def connect_order_updates(self) -> OrderUpdateConnection:
        """Open the broker's order-update stream (only when ``has_order_updates``)."""
        ...
