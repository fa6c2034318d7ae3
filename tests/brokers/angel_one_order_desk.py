"""The Angel One fake's order side: a small matching engine behind SmartAPI's order calls.

What it models, from SmartAPI's documentation and the order books Angel One returns:

- ``placeOrder`` answers ``status: true`` with an ``orderid`` and a ``uniqueorderid`` for any
  well-formed order, then its RMS (or the exchange) may reject it at once: the order is in the
  book as ``rejected`` with the reason in ``text``. Rejections, with the texts Angel One relays
  from its NEST RMS: margin (``RMS:Margin Exceeds,Required:..., Available:...``), the exchange's
  freeze quantity and the price band (the circuit limits the fake's SNAP_QUOTE frames carry).
  A malformed request is refused outright (``status: false``): an ``ordertag`` of 20
  characters or more (AB4008), an unknown token (AB1009), an order that is not LIMIT.
- Matching against the fake's quote model: a buy at or above the ask fills up to the ask's
  size at the ask, a sell at or below the bid up to the bid's size; the rest stays open and
  fills in later rounds. Every fill is a trade with its own ``fillid``.
- Positions (net quantity and average price per token, plus any the test injects), the RMS
  limits (``net`` falls by the premium of each buy and by a fixed share of the notional of each
  sell), the order-status messages (AB01 open, AB02 cancelled, AB03 rejected, AB04 modified,
  AB05 complete, AB09 open pending) to every open order-status WebSocket.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from optbus.clock import Clock
from optbus.market import MarketFacts
from optbus_brokers.angel_one.order_book import ANGEL_TIMEZONE, ORDER_TAG_LENGTH
from optbus_brokers.feed import Instrument
from tests.brokers.quote_model import ModelQuote

SELL_MARGIN_FRACTION = 0.12
"""A short option blocks this share of the underlying's notional (a stand-in for SPAN)."""
DEFAULT_AVAILABLE_MARGIN = 500_000.0

_STATUS_CODES = {
    "open pending": "AB09",
    "open": "AB01",
    "cancelled": "AB02",
    "rejected": "AB03",
    "modified": "AB04",
    "complete": "AB05",
}
_FINAL = frozenset({"complete", "cancelled", "rejected"})


class DeskRefusal(Exception):
    """A request SmartAPI refuses outright: ``status: false`` with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class FakeOrder:
    orderid: str
    uniqueorderid: str
    tag: str
    instrument: Instrument
    side: str  # BUY | SELL
    product: str
    quantity: int
    price: float
    status: str
    updated_ns: int
    filled: int = 0
    filled_value: float = 0.0
    text: str = ""
    api_key: str = ""

    def row(self) -> dict[str, object]:
        """The order as SmartAPI's order book writes it (numbers partly as strings)."""
        instrument = self.instrument
        return {
            "variety": "NORMAL",
            "ordertype": "LIMIT",
            "producttype": self.product,
            "duration": "DAY",
            "price": self.price,
            "triggerprice": 0.0,
            "quantity": str(self.quantity),
            "disclosedquantity": "0",
            "squareoff": 0.0,
            "stoploss": 0.0,
            "trailingstoploss": 0.0,
            "tradingsymbol": instrument.symbol,
            "transactiontype": self.side,
            "exchange": instrument.segment,
            "symboltoken": instrument.token,
            "ordertag": self.tag,
            "instrumenttype": "OPTIDX" if instrument.strike else "FUTIDX",
            "strikeprice": instrument.strike or -1.0,
            "optiontype": instrument.symbol[-2:] if instrument.strike else "",
            "expirydate": f"{instrument.expiry:%d%b%Y}".upper() if instrument.expiry else "",
            "lotsize": str(instrument.lot_size),
            "cancelsize": str(self.quantity - self.filled if self.status == "cancelled" else 0),
            "averageprice": round(self.filled_value / self.filled, 2) if self.filled else 0.0,
            "filledshares": str(self.filled),
            "unfilledshares": str(self.quantity - self.filled),
            "orderid": self.orderid,
            "text": self.text,
            "status": self.status,
            "orderstatus": self.status,
            "updatetime": ist_text(self.updated_ns),
            "exchtime": ist_text(self.updated_ns),
            "exchorderupdatetime": ist_text(self.updated_ns),
            "fillid": "",
            "filltime": "",
            "parentorderid": "",
            "uniqueorderid": self.uniqueorderid,
        }


@dataclass
class FakePosition:
    instrument: Instrument
    net_quantity: int = 0
    average_price: float = 0.0

    def add(self, signed_quantity: int, price: float) -> None:
        """A fill of ``signed_quantity`` at ``price``: a weighted average while the position
        grows, kept while it shrinks, the fill's price once it turns over."""
        new = self.net_quantity + signed_quantity
        if self.net_quantity == 0 or (new > 0) != (self.net_quantity > 0):
            self.average_price = price if new else 0.0
        elif abs(new) > abs(self.net_quantity):
            total = self.average_price * abs(self.net_quantity) + price * abs(signed_quantity)
            self.average_price = total / abs(new)
        self.net_quantity = new

    def row(self) -> dict[str, str]:
        instrument = self.instrument
        buy = max(self.net_quantity, 0)
        sell = max(-self.net_quantity, 0)
        average = f"{self.average_price:.2f}"
        return {
            "exchange": instrument.segment,
            "symboltoken": instrument.token,
            "producttype": "CARRYFORWARD",
            "tradingsymbol": instrument.symbol,
            "symbolname": instrument.underlying,
            "instrumenttype": "OPTIDX" if instrument.strike else "FUTIDX",
            "lotsize": str(instrument.lot_size),
            "buyqty": str(buy),
            "sellqty": str(sell),
            "buyavgprice": average if buy else "0.00",
            "sellavgprice": average if sell else "0.00",
            "avgnetprice": average,
            "netqty": str(self.net_quantity),
            "netprice": average,
        }


@dataclass
class OrderDesk:
    """The account's orders, trades, positions and margin, matched against ``quote``."""

    client_code: str
    clock: Clock
    facts: MarketFacts
    quote: Callable[[str], ModelQuote]
    instrument: Callable[[str], Instrument | None]
    spot: Callable[[str], float]
    publish: Callable[[dict[str, object]], Awaitable[None]]
    available_margin: float = DEFAULT_AVAILABLE_MARGIN
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    trades: list[dict[str, str]] = field(default_factory=list)
    positions: dict[str, FakePosition] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- the calls ------------------------------------------------------------------------------

    async def place(self, body: dict[str, object], api_key: str) -> FakeOrder:
        tag = str(body.get("ordertag") or "")
        if len(tag) >= ORDER_TAG_LENGTH + 1:
            raise DeskRefusal("AB4008", "ordertag length should be less than 20 characters")
        instrument = self.instrument(str(body.get("symboltoken")))
        if instrument is None or instrument.symbol != body.get("tradingsymbol"):
            raise DeskRefusal("AB1009", "Symbol Not Found")
        if body.get("ordertype") != "LIMIT" or body.get("variety") != "NORMAL":
            raise DeskRefusal("AB1008", "Invalid Order Variety")
        try:
            quantity = int(str(body["quantity"]))
            price = float(str(body["price"]))
            side = str(body["transactiontype"])
        except (KeyError, ValueError):
            raise DeskRefusal("AB4001", "Invalid quantity or price") from None
        number = next(self._ids)
        order = FakeOrder(
            orderid=f"2612070000{number:05d}",
            uniqueorderid=f"fake-unique-{number:05d}",
            tag=tag,
            instrument=instrument,
            side=side,
            product=str(body.get("producttype", "CARRYFORWARD")),
            quantity=quantity,
            price=price,
            status="open pending",
            updated_ns=self.clock.now_ns(),
            api_key=api_key,
        )
        self.orders[order.orderid] = order
        await self._set(order, "open pending")
        reason = self._rejection(order)
        if reason is not None:
            order.text = reason
            await self._set(order, "rejected")
        else:
            self.available_margin -= self._margin(order)
            await self._set(order, "open")
            await self._match(order)
        return order

    async def modify(self, body: dict[str, object]) -> FakeOrder:
        order = self._working(str(body.get("orderid")))
        order.quantity = int(str(body["quantity"]))
        order.price = float(str(body["price"]))
        await self._set(order, "modified")
        order.status = "open"
        await self._match(order)
        return order

    async def cancel(self, orderid: str) -> FakeOrder:
        order = self._working(orderid)
        self.available_margin += self._margin(order, order.quantity - order.filled)
        await self._set(order, "cancelled")
        return order

    async def match_all(self) -> None:
        """Every working order against the current quotes (the fake does this each round)."""
        for order in list(self.orders.values()):
            if order.status == "open":
                await self._match(order)

    def position_rows(self) -> list[dict[str, str]]:
        return [position.row() for position in self.positions.values() if position.net_quantity]

    def rms(self) -> dict[str, str]:
        return {
            "net": f"{self.available_margin:.2f}",
            "availablecash": f"{self.available_margin:.2f}",
            "availableintradaypayin": "0",
            "availablelimitmargin": "0",
            "collateral": "0",
            "m2munrealized": "0",
            "m2mrealized": "0",
            "utiliseddebits": "0",
        }

    # -- the engine -----------------------------------------------------------------------------

    def _working(self, orderid: str) -> FakeOrder:
        order = self.orders.get(orderid)
        if order is None:
            raise DeskRefusal("AB1013", "Order not found")
        if order.status in _FINAL:
            raise DeskRefusal("AB1013", f"Order is already {order.status}")
        return order

    def _rejection(self, order: FakeOrder) -> str | None:
        instrument = order.instrument
        freeze = self.facts.contract(instrument.underlying).freeze_quantity
        if order.quantity % instrument.lot_size:
            return f"RMS:Rule: Quantity should be multiple of lot size {instrument.lot_size}"
        if order.quantity > freeze:
            return (
                f"RMS:Rule: Order quantity {order.quantity} exceeds freeze quantity {freeze} "
                f"for {instrument.symbol}"
            )
        lower, upper = circuit_limits(self.quote(instrument.token), instrument.tick_size)
        if not lower <= order.price <= upper:
            return (
                "RMS:Rule: Check circuit limit including square off order exceeds : "
                f"price {order.price:.2f} outside {lower:.2f} - {upper:.2f}"
            )
        required = self._margin(order)
        if required > self.available_margin:
            return (
                f"RMS:Margin Exceeds,Required:{required:.2f}, Available:"
                f"{self.available_margin:.2f} for entity account-{self.client_code} across "
                "exchange across segment across product"
            )
        return None

    def _margin(self, order: FakeOrder, quantity: int | None = None) -> float:
        units = order.quantity if quantity is None else quantity
        if order.side == "BUY":
            return units * order.price
        return units * self.spot(order.instrument.underlying) * SELL_MARGIN_FRACTION

    async def _match(self, order: FakeOrder) -> None:
        quote = self.quote(order.instrument.token)
        buying = order.side == "BUY"
        touch = quote.ask if buying else quote.bid
        size = quote.ask_size if buying else quote.bid_size
        if touch is None or (order.price < touch if buying else order.price > touch):
            return
        filled = min(order.quantity - order.filled, size)
        if filled <= 0:
            return
        order.filled += filled
        order.filled_value += filled * touch
        if buying:  # the premium paid is the touch, not the limit that was blocked
            self.available_margin += filled * (order.price - touch)
        self.trades.append(
            {
                "exchange": order.instrument.segment,
                "producttype": order.product,
                "tradingsymbol": order.instrument.symbol,
                "instrumenttype": "OPTIDX" if order.instrument.strike else "FUTIDX",
                "symbolgroup": "XX",
                "strikeprice": f"{order.instrument.strike or -1:.2f}",
                "expirydate": f"{order.instrument.expiry:%d%b%Y}".upper()
                if order.instrument.expiry
                else "",
                "marketlot": str(order.instrument.lot_size),
                "precision": "2",
                "multiplier": "-1",
                "tradevalue": f"{filled * touch:.2f}",
                "transactiontype": order.side,
                "fillprice": f"{touch:.2f}",
                "fillsize": str(filled),
                "orderid": order.orderid,
                "fillid": f"5000{len(self.trades) + 1:04d}",
                "filltime": f"{_ist(self.clock.now_ns()):%H:%M:%S}",
            }
        )
        position = self.positions.setdefault(order.instrument.token, FakePosition(order.instrument))
        position.add(filled if buying else -filled, touch)
        await self._set(order, "complete" if order.filled == order.quantity else "open")

    async def _set(self, order: FakeOrder, status: str) -> None:
        order.status = status
        order.updated_ns = self.clock.now_ns()
        await self.publish(
            {
                "user-id": self.client_code,
                "status-code": "200",
                "order-status": _STATUS_CODES[status],
                "error-message": "",
                "orderData": order.row(),
            }
        )


def circuit_limits(quote: ModelQuote, tick: float) -> tuple[float, float]:
    """The price band of an instrument with ``quote``, as the fake's SNAP_QUOTE frames carry
    it: from one tick up to twice the ask plus ₹20."""
    return tick, (quote.ask or 0.0) * 2 + 20


def ist_text(ts_ns: int) -> str:
    """``ts_ns`` as SmartAPI writes an order's time: ``07-Dec-2026 10:00:00`` (IST)."""
    return f"{_ist(ts_ns):%d-%b-%Y %H:%M:%S}"


def _ist(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1_000_000_000, ANGEL_TIMEZONE)
