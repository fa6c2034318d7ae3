"""The Breeze fake's order desk: ``order``, ``trades``, ``portfoliopositions`` and ``funds``.

It speaks what breeze-connect 1.0.69 sends (test_icici_breeze_fake_against_sdk.py proves it
with the SDK's own calls): a JSON body on every method, GET included, signed with
``X-Checksum: token sha256(X-Timestamp + body + secret)``, ``X-AppKey`` and ``X-SessionToken``
(base64 ``user:session-key``), answered ``{"Success": ..., "Status": 200, "Error": null}`` or
``{"Success": null, "Status": 500, "Error": <reason>}``.

A small matching engine against the shared quote model: a limit order that reaches the touch
fills at the touch, at most the touch's size per round (so a large order fills partly, the rest
works), and ``match_orders`` fills working orders against the current round. Before accepting,
it checks what ICICI's RMS and the exchange check: a known contract, the lot multiple, the
freeze quantity, the tick and the price band around the last price (±₹20 below ₹50, else ±40 %),
and the F&O allocation (premium for a buy, a flat 12 % of the underlying's notional for a sell).
ICICI does not publish its rejection texts; the reasons below are the fake's own, in the
``Error`` field where Breeze puts them.

Fault switches: ``down`` (every order call answers 503 with an HTML page),
``hang_after_accepting`` (a placement is booked, then its answer never comes until the fake
stops), ``inject_position`` (a position the log does not know).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from optbus.clock import Clock
from optbus.market import MarketFacts
from optbus_brokers.feed import Instrument
from tests.brokers.quote_model import ModelQuote

INDIA = ZoneInfo("Asia/Kolkata")
SHORT_MARGIN_FRACTION = 0.12
MARGIN_REFUSAL = "Insufficient balance in F&O allocation"
FREEZE_REFUSAL = "Order quantity exceeds the freeze quantity"
LOT_REFUSAL = "Quantity should be in multiples of lot size"
BAND_REFUSAL = "Order price is outside the price band"
TICK_REFUSAL = "Price should be in multiples of tick size"
CONTRACT_REFUSAL = "Invalid contract details"
NOT_WORKING_REFUSAL = "Order is not in a modifiable or cancellable state"
NO_DATA = "No Data Found"
_NS_PER_SECOND = 1_000_000_000
_RIGHTS = {"call": "Call", "put": "Put", "future": "Others"}
_CODES = {"NIFTY": "NIFTY", "BANKNIFTY": "CNXBAN"}


@dataclass
class FakeOrder:
    order_id: str
    instrument: Instrument
    side: str
    quantity: int
    price: float
    remark: str
    placed_ns: int
    blocked: float
    filled: int = 0
    cancelled: int = 0
    rejected: bool = False
    executions: list[dict[str, object]] = field(default_factory=list)
    matched_round: int = -1

    @property
    def working(self) -> bool:
        return not self.rejected and self.filled + self.cancelled < self.quantity

    @property
    def status(self) -> str:
        if self.rejected:
            return "Rejected"
        if self.filled == self.quantity:
            return "Executed"
        if self.cancelled:
            return "Partially Executed And Cancelled" if self.filled else "Cancelled"
        return "Partially Executed" if self.filled else "Ordered"


@dataclass
class FakePosition:
    net: int = 0
    cost: float = 0.0  # average price times |net|

    def add(self, signed_quantity: int, price: float) -> None:
        if self.net == 0 or (self.net > 0) == (signed_quantity > 0):
            self.cost += abs(signed_quantity) * price
            self.net += signed_quantity
            return
        closing = min(abs(signed_quantity), abs(self.net))
        average = self.cost / abs(self.net)
        self.net += signed_quantity
        self.cost -= closing * average
        if abs(signed_quantity) > closing:  # the position flipped
            self.cost = abs(self.net) * price

    @property
    def average(self) -> float:
        return self.cost / abs(self.net) if self.net else 0.0


class BreezeOrderDesk:
    """The order half of the Breeze fake; ``BreezeFake`` routes the REST calls here."""

    def __init__(
        self,
        *,
        instruments: list[Instrument],
        quote: Callable[[Instrument], ModelQuote],
        rounds: Callable[[], int],
        spots: dict[str, float],
        facts: MarketFacts,
        clock: Clock,
        api_key: str,
        secret_key: str,
        session_pair: Callable[[], str],
        allocated_fno: float,
    ) -> None:
        self._quote = quote
        self._rounds = rounds
        self._spots = spots
        self._facts = facts
        self._clock = clock
        self._api_key = api_key
        self._secret_key = secret_key
        self._session_pair = session_pair
        self._by_contract = {
            _contract(i.underlying, i.expiry, i.kind, i.strike): i
            for i in instruments
            if i.expiry is not None
        }
        self.allocated_fno = allocated_fno
        self.orders: dict[str, FakeOrder] = {}
        self.positions: dict[str, FakePosition] = {}
        self.calls: list[tuple[str, str]] = []
        self.down = False
        self.hang_after_accepting = False
        self._released = asyncio.Event()
        self._trades = 0

    def routes(self, api_path: str) -> list[web.RouteDef]:
        return [
            web.post(api_path + "order", self._place),
            web.put(api_path + "order", self._modify),
            web.delete(api_path + "order", self._cancel),
            web.get(api_path + "order", self._orders),
            web.get(api_path + "trades", self._trade_book),
            web.get(api_path + "portfoliopositions", self._positions),
            web.get(api_path + "funds", self._funds),
        ]

    def release(self) -> None:
        """Let every hanging answer go (the fake is stopping)."""
        self._released.set()

    @property
    def blocked_fno(self) -> float:
        return sum(order.blocked for order in self.orders.values())

    def inject_position(self, instrument: Instrument, net_quantity: int, price: float) -> None:
        """A position at the broker that no order of this session made."""
        self.positions.setdefault(instrument.token, FakePosition()).add(net_quantity, price)

    def match_orders(self) -> int:
        """Fill working orders against the current round's quotes; how many fills were made."""
        return sum(self._match(order) for order in self.orders.values() if order.working)

    def refusal(self, request: dict[str, str]) -> str | None:
        """Why ICICI would refuse this placement, or ``None``."""
        instrument = self.instrument_of(request)
        if instrument is None:
            return CONTRACT_REFUSAL
        quantity, price = int(request["quantity"]), float(request["price"])
        spec = self._facts.contract(instrument.underlying, _day(self._clock))
        if quantity <= 0 or quantity % instrument.lot_size:
            return LOT_REFUSAL
        if quantity > spec.freeze_quantity:
            return FREEZE_REFUSAL
        if not math.isclose(price / instrument.tick_size, round(price / instrument.tick_size)):
            return TICK_REFUSAL
        reference = self._quote(instrument).last
        band = 20.0 if reference < 50 else 0.4 * reference
        if abs(price - reference) > band:
            return BAND_REFUSAL
        if self._required(instrument, request["action"], quantity, price) > self.free_fno:
            return MARGIN_REFUSAL
        return None

    @property
    def free_fno(self) -> float:
        return self.allocated_fno - self.blocked_fno

    def instrument_of(self, request: dict[str, str]) -> Instrument | None:
        underlying = {code: u for u, code in _CODES.items()}.get(request.get("stock_code", ""))
        kind = {v.lower(): k for k, v in _RIGHTS.items()}.get(request.get("right", "").lower())
        try:
            expiry = datetime.strptime(request["expiry_date"][:10], "%Y-%m-%d").date()
            strike = float(request.get("strike_price") or 0)
        except (KeyError, ValueError):
            return None
        if underlying is None or kind is None:
            return None
        return self._by_contract.get(_contract(underlying, expiry, kind, strike or None))

    def _required(self, instrument: Instrument, action: str, quantity: int, price: float) -> float:
        if action.lower() == "buy":
            return quantity * price
        return quantity * self._spots[instrument.underlying] * SHORT_MARGIN_FRACTION

    def _match(self, order: FakeOrder) -> int:
        if order.matched_round == self._rounds():
            return 0
        quote = self._quote(order.instrument)
        buying = order.side == "buy"
        touch, size = (quote.ask, quote.ask_size) if buying else (quote.bid, quote.bid_size)
        if touch is None or (order.price < touch if buying else order.price > touch):
            return 0
        order.matched_round = self._rounds()
        quantity = min(size, order.quantity - order.filled - order.cancelled)
        order.filled += quantity
        self._trades += 1
        now = self._clock.now_ns()
        order.executions.append(
            {
                "settlement_id": f"{_day(self._clock):%Y%j}",
                "exchange_trade_id": f"{now // _NS_PER_SECOND % 100_000_000:08d}{self._trades:04d}",
                "executed_quantity": str(quantity),
                "action": "B" if buying else "S",
                "total_transaction_cost": f"{quantity * touch:.2f}",
                "brokerage_amount": "20.00",
                "taxes": "0.00",
                "eq_cost": None,
                "execution_time": _local_time(now),
                "execution_price": f"{touch:.2f}",
                "exchange_code": "NFO",
                "product_type": "Options",
                "order_id": order.order_id,
            }
        )
        signed = quantity if buying else -quantity
        self.positions.setdefault(order.instrument.token, FakePosition()).add(signed, touch)
        return 1

    async def _signed_body(self, request: web.Request) -> dict[str, str] | web.Response:
        """The request's JSON body if its signature is Breeze's, else Breeze's refusal."""
        self.calls.append((request.method, request.path.rsplit("/", 1)[-1]))
        if self.down:
            return web.Response(status=503, text="<html>Service Unavailable</html>")
        text = await request.text()
        stamp = request.headers.get("X-Timestamp", "")
        checksum = hashlib.sha256((stamp + text + self._secret_key).encode()).hexdigest()
        pair = base64.b64encode(self._session_pair().encode()).decode()
        if request.headers.get("X-AppKey") != self._api_key:
            return _refuse("Public Key does not exist.")
        if request.headers.get("X-SessionToken") != pair:
            return _refuse("Session key is expired.")
        if request.headers.get("X-Checksum") != f"token {checksum}":
            return _refuse("Checksum is not matching.")
        body = json.loads(text or "{}")
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}

    async def _place(self, request: web.Request) -> web.Response:
        body = await self._signed_body(request)
        if isinstance(body, web.Response):
            return body
        reason = self.refusal(body)
        if reason is not None:
            return _refuse(reason)
        instrument = self.instrument_of(body)
        assert instrument is not None
        quantity, price = int(body["quantity"]), float(body["price"])
        order_id = f"{_day(self._clock):%Y%m%d}N3{len(self.orders) + 1:08d}"
        order = FakeOrder(
            order_id=order_id,
            instrument=instrument,
            side=body["action"].lower(),
            quantity=quantity,
            price=price,
            remark=body.get("user_remark", ""),
            placed_ns=self._clock.now_ns(),
            blocked=self._required(instrument, body["action"], quantity, price),
        )
        self.orders[order_id] = order
        self._match(order)
        if self.hang_after_accepting:
            await self._released.wait()
        return _success(
            {"order_id": order_id, "message": "Successfully Placed the order", "user_remark": ""}
        )

    async def _working_order(
        self, request: web.Request
    ) -> tuple[FakeOrder, dict[str, str]] | web.Response:
        """The working order a modification or cancel names, or Breeze's refusal."""
        body = await self._signed_body(request)
        if isinstance(body, web.Response):
            return body
        order = self.orders.get(body.get("order_id", ""))
        if order is None or not order.working:
            return _refuse(NOT_WORKING_REFUSAL)
        return order, body

    async def _modify(self, request: web.Request) -> web.Response:
        named = await self._working_order(request)
        if isinstance(named, web.Response):
            return named
        order, body = named
        order.quantity = int(body.get("quantity") or order.quantity)
        order.price = float(body.get("price") or order.price)
        self._match(order)
        return _success({"order_id": order.order_id, "message": "Successfully Modified the order"})

    async def _cancel(self, request: web.Request) -> web.Response:
        named = await self._working_order(request)
        if isinstance(named, web.Response):
            return named
        order, _ = named
        remaining = order.quantity - order.filled
        order.blocked *= order.filled / order.quantity
        order.cancelled = remaining
        return _success({"order_id": order.order_id, "message": "Successfully cancelled"})

    async def _orders(self, request: web.Request) -> web.Response:
        body = await self._signed_body(request)
        if isinstance(body, web.Response):
            return body
        wanted = body.get("order_id")
        rows = [
            _order_row(order)
            for order in self.orders.values()
            if wanted is None or order.order_id == wanted
        ]
        return _success(rows) if rows else _refuse(NO_DATA)

    async def _trade_book(self, request: web.Request) -> web.Response:
        body = await self._signed_body(request)
        if isinstance(body, web.Response):
            return body
        wanted = body.get("order_id")
        if wanted is not None:
            order = self.orders.get(wanted)
            rows = list(order.executions) if order is not None else []
        else:
            rows = [_trade_row(o) for o in self.orders.values() if o.filled]
        return _success(rows) if rows else _refuse(NO_DATA)

    async def _positions(self, request: web.Request) -> web.Response:
        body = await self._signed_body(request)
        if isinstance(body, web.Response):
            return body
        by_token = {i.token: i for i in self._by_contract.values()}
        rows = [
            _position_row(by_token[token], position, self._quote(by_token[token]).last)
            for token, position in self.positions.items()
            if position.net
        ]
        return _success(rows) if rows else _refuse(NO_DATA)

    async def _funds(self, request: web.Request) -> web.Response:
        body = await self._signed_body(request)
        if isinstance(body, web.Response):
            return body
        return _success(
            {
                "bank_account": "000000000000",
                "total_bank_balance": self.allocated_fno,
                "allocated_equity": 0.0,
                "allocated_fno": self.allocated_fno,
                "allocated_commodity": 0.0,
                "allocated_currency": 0.0,
                "block_by_trade_equity": 0.0,
                "block_by_trade_fno": round(self.blocked_fno, 2),
                "block_by_trade_commodity": 0.0,
                "block_by_trade_currency": 0.0,
                "block_by_trade_balance": 0.0,
                "unallocated_balance": "0.0",
            }
        )


def _contract(
    underlying: str, expiry: date | None, kind: str, strike: float | None
) -> tuple[str, date | None, str, float | None]:
    return (underlying, expiry, kind, strike)


def _contract_fields(instrument: Instrument) -> dict[str, object]:
    future = instrument.kind == "future"
    return {
        "stock_code": _CODES[instrument.underlying],
        "product_type": "Futures" if future else "Options",
        "exchange_code": "NFO",
        "expiry_date": f"{instrument.expiry:%d-%b-%Y}",
        "right": _RIGHTS[instrument.kind],
        "strike_price": 0.0 if future else instrument.strike,
    }


def _order_row(order: FakeOrder) -> dict[str, object]:
    fills = [
        (int(str(e["executed_quantity"])), float(str(e["execution_price"])))
        for e in order.executions
    ]
    average = sum(q * p for q, p in fills) / order.filled if order.filled else 0.0
    return {
        "order_id": order.order_id,
        "exchange_order_id": f"1{order.order_id[-8:]}",
        **_contract_fields(order.instrument),
        "action": order.side.capitalize(),
        "order_type": "Limit",
        "stoploss": "0",
        "quantity": str(order.quantity),
        "price": f"{order.price:.2f}",
        "validity": "Day",
        "disclosed_quantity": "0",
        "average_price": f"{average:.2f}",
        "cancelled_quantity": str(order.cancelled),
        "pending_quantity": str(order.quantity - order.filled - order.cancelled),
        "status": order.status,
        "user_remark": order.remark,
        "order_datetime": _local_time(order.placed_ns),
        "parent_order_id": None,
        "modification_number": None,
        "exchange_acknowledgement_date": None,
        "SLTP_price": None,
        "exchange_acknowledge_number": None,
        "initial_limit": None,
        "intial_sltp": None,
        "LTP": None,
        "limit_offset": None,
        "mbc_flag": None,
        "cutoff_price": None,
        "validity_date": None,
    }


def _trade_row(order: FakeOrder) -> dict[str, object]:
    average = float(str(_order_row(order)["average_price"]))
    return {
        "book_type": "Trade-Book",
        "trade_date": f"{datetime.fromtimestamp(order.placed_ns / _NS_PER_SECOND, INDIA):%d-%b-%Y}",
        **_contract_fields(order.instrument),
        "action": order.side.capitalize(),
        "quantity": str(order.filled),
        "average_cost": f"{average:.2f}",
        "brokerage_amount": f"{20.0 * len(order.executions):.2f}",
        "order_id": order.order_id,
    }


def _position_row(instrument: Instrument, position: FakePosition, last: float) -> dict[str, object]:
    return {
        "segment": "fno",
        **_contract_fields(instrument),
        "action": "Buy" if position.net > 0 else "Sell",
        "quantity": str(abs(position.net)),
        "average_price": f"{position.average:.2f}",
        "settlement_id": None,
        "margin_amount": None,
        "ltp": f"{last:.2f}",
        "price": f"{position.average:.2f}",
        "stock_index_indicator": "Index",
        "cover_quantity": "0",
        "stoploss_trigger": "0",
        "stoploss": None,
        "take_profit": None,
        "available_margin": None,
        "squareoff_mode": None,
        "order_id": "",
        "pnl": None,
        "underlying": _CODES[instrument.underlying],
        "order_segment_code": None,
    }


def _day(clock: Clock) -> date:
    return datetime.fromtimestamp(clock.now_ns() / _NS_PER_SECOND, INDIA).date()


def _local_time(ns: int) -> str:
    return f"{datetime.fromtimestamp(ns // _NS_PER_SECOND, INDIA):%d-%b-%Y %H:%M:%S}"


def _success(value: object) -> web.Response:
    return web.json_response({"Success": value, "Status": 200, "Error": None})


def _refuse(reason: str) -> web.Response:
    return web.json_response({"Success": None, "Status": 500, "Error": reason})
