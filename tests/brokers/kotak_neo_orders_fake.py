"""The Kotak Neo fake's order side: NEST's order API over a small matching engine.

``KotakNeoFake`` serves these routes beside its login and feed, as the official SDK
(``kotakneoapi`` 3.0.9) calls them, form posts of one ``jData`` JSON field with the trade
session's ``Sid`` and ``Auth`` headers:

- ``POST /quick/order/rule/ms/place``: a limit order. Refused at once (``Not_Ok``) for an
  unknown symbol (1007), a quantity not a whole number of lots (1009) and too little margin
  (1004, ``Insufficient balance.``), as Kotak documents them. Accepted otherwise, and then
  rejected in the order book by the RMS for a quantity over the freeze quantity or a price
  outside the fake's band, with a NEST-style ``rejRsn``. An accepted order matches at once
  against the shared quote model: a buy at or above the ask fills up to the ask size at the
  ask, a sell at or below the bid up to the bid size at the bid, the rest stays open;
  ``match_orders()`` offers the book's liquidity again.
- ``POST /quick/order/vr/modify`` and ``/quick/order/cancel``: a final order answers stCode
  1021 ``order is completed`` (the SDK's own constant).
- ``GET /quick/user/orders`` and ``/quick/user/trades``, ``GET /portfolio/v2/positions``,
  ``POST /quick/user/limits`` (``Net`` is the margin left); an empty book answers
  ``Not_Ok`` stCode 5203 ``No Data``, as Kotak's does;
- ``/realtime``, the order feed: after the SDK's raw connection string
  (``{type:cn,Authorization:<token>,Sid:<sid>,src:WEB}``) it acknowledges and pushes
  ``{"type": "order", "data": <order-book row>}`` at every change of an order; a wrong
  session is closed with 1008.

Fault switches: ``hang_after_accepting()`` accepts the next order and never answers,
``go_down()`` answers every order call 503 until ``come_back()``, ``drop_order_feeds()`` cuts
the order feeds without a close frame, ``inject_position()`` adds a carried-forward position
the adapter did not trade, and ``send_to_order_feeds()`` sends anything.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from optbus.market import MarketFacts
from optbus_brokers.feed import Instrument
from tests.brokers.quote_model import ModelQuote

IST = ZoneInfo("Asia/Kolkata")
NS_PER_SECOND = 1_000_000_000
# The fake's margin for a short option: this fraction of the underlying's spot a unit.
SHORT_MARGIN_FRACTION = 0.12
ORDER_COMPLETE_CODE = 1021
NO_DATA_CODE = 5203
FREEZE_REASON = "RMS:Rule: Order Quantity exceeds freeze quantity for entity account-{ucc}"
BAND_REASON = (
    "RMS:Rule: Check circuit limit including square off order exceeds for entity "
    "account-{ucc} across exchange across segment across product"
)


@dataclass
class FakeOrder:
    number: str
    tag: str | None
    contract: Instrument
    side: str  # B or S
    quantity: int
    price: float
    placed_s: int
    updated_s: int
    blocked_margin: float = 0.0
    filled: int = 0
    filled_value: float = 0.0
    status: str = "open"
    reason: str = ""


@dataclass
class FakePosition:
    contract: Instrument
    bought: int = 0
    sold: int = 0
    buy_value: float = 0.0
    sell_value: float = 0.0
    carried_net: int = 0
    carried_price: float = 0.0


@dataclass
class KotakNeoOrderBook:
    """The account's orders, trades, positions and margin, and the routes that serve them."""

    ucc: str
    facts: MarketFacts
    today_contract: Callable[[str], Instrument | None]
    quote: Callable[[Instrument], ModelQuote]
    circuit_limits: Callable[[ModelQuote], tuple[float, float]]
    spot: Callable[[str], float]
    seconds: Callable[[], int]
    available_margin: float = 1_000_000.0
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    trades: list[dict[str, object]] = field(default_factory=list)
    positions: dict[str, FakePosition] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    down: bool = False
    order_feeds: list[tuple[web.Request, asyncio.Queue[str]]] = field(default_factory=list)
    order_feed_changed: asyncio.Event = field(default_factory=asyncio.Event)
    _hang_next: bool = False
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _fills: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _never: asyncio.Event = field(default_factory=asyncio.Event)

    # -- what the test drives -------------------------------------------------------------

    def hang_after_accepting(self) -> None:
        """Accept the next order into the book, then never answer its placement."""
        self._hang_next = True

    def go_down(self) -> None:
        self.down = True

    def come_back(self) -> None:
        self.down = False

    def inject_position(self, contract: Instrument, net_quantity: int, price: float) -> None:
        """A carried-forward position the account holds from before (or from elsewhere)."""
        position = self.positions.setdefault(contract.token, FakePosition(contract))
        position.carried_net, position.carried_price = net_quantity, price

    def match_orders(self) -> None:
        """Offer every open order the quote model's liquidity once more."""
        for order in self.orders.values():
            if order.status == "open":
                self._match(order)

    def release(self) -> None:
        self._never.set()

    def send_to_order_feeds(self, frame: str) -> None:
        for _, queue in self.order_feeds:
            queue.put_nowait(frame)

    def drop_order_feeds(self) -> None:
        """Cut every order feed without a close frame, as a network failure does."""
        for request, _ in self.order_feeds:
            if request.transport is not None:
                request.transport.abort()

    async def wait_for_order_feeds(self, count: int) -> None:
        while len(self.order_feeds) < count:
            self.order_feed_changed.clear()
            await self.order_feed_changed.wait()

    def _publish(self, order: FakeOrder) -> None:
        self.send_to_order_feeds(json.dumps({"type": "order", "data": self._order_row(order)}))

    # -- the routes -----------------------------------------------------------------------

    def routes(self, authorised: Callable[[str, str], bool]) -> list[web.RouteDef]:
        """The order API's routes; ``authorised(sid, token)`` checks a trade session."""

        def guarded(
            handler: Callable[[dict[str, object]], web.Response | None],
        ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
            async def serve(request: web.Request) -> web.StreamResponse:
                if self.down:
                    return web.Response(status=503, text="<html>503 Service Unavailable</html>")
                if not authorised(request.headers.get("Sid", ""), request.headers.get("Auth", "")):
                    return _not_ok(1003, "Invalid session", status=401)
                form = await request.post()
                body = json.loads(str(form["jData"])) if "jData" in form else {}
                self.requests.append((request.path, body))
                answer = handler(body)
                if answer is None:  # accepted, and the answer never comes
                    await self._never.wait()
                    return _not_ok(500, "gone")
                return answer

            return serve

        return [
            web.post("/quick/order/rule/ms/place", guarded(self._place)),
            web.post("/quick/order/vr/modify", guarded(self._modify)),
            web.post("/quick/order/cancel", guarded(self._cancel)),
            web.get("/quick/user/orders", guarded(self._order_book)),
            web.get("/quick/user/trades", guarded(self._trade_book)),
            web.get("/portfolio/v2/positions", guarded(self._positions)),
            web.post("/quick/user/limits", guarded(self._limits)),
            web.get("/realtime", functools.partial(self._order_feed, authorised=authorised)),
        ]

    async def _order_feed(
        self, request: web.Request, *, authorised: Callable[[str, str], bool]
    ) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        first = await socket.receive()
        # The SDK's connection string is not JSON: {type:cn,Authorization:<token>,Sid:<sid>,...}
        text = str(first.data).strip("{}") if first.type == WSMsgType.TEXT else ""
        fields = dict(part.split(":", 1) for part in text.split(",") if ":" in part)
        if fields.get("type") != "cn" or not authorised(
            fields.get("Sid", ""), fields.get("Authorization", "")
        ):
            await socket.close(code=1008, message=b"invalid session")
            return socket
        await socket.send_str(json.dumps({"type": "cn", "ak": "ok"}))
        queue: asyncio.Queue[str] = asyncio.Queue()
        entry = (request, queue)
        self.order_feeds.append(entry)
        self.order_feed_changed.set()

        async def forward() -> None:
            while True:
                await socket.send_str(await queue.get())

        forwarding = asyncio.create_task(forward())
        try:
            async for _ in socket:
                pass
        finally:
            forwarding.cancel()
            self.order_feeds.remove(entry)
            self.order_feed_changed.set()
        return socket

    def _place(self, body: dict[str, object]) -> web.Response | None:
        contract = self.today_contract(str(body.get("ts")))
        if contract is None or body.get("es") != "nse_fo":
            return _not_ok(1007, "Invalid Symbol")
        quantity, price = int(str(body.get("qt"))), float(str(body.get("pr")))
        if quantity <= 0 or quantity % contract.lot_size:
            return _not_ok(1009, "Invalid Quantity")
        side = str(body.get("tt"))
        required = self._margin(contract, side, quantity, price)
        if required > self.available_margin:
            return _not_ok(1004, "Insufficient balance.")
        now = self.seconds()
        number = f"{datetime.fromtimestamp(now, IST):%y%m%d}{next(self._numbers):09d}"
        tag = body.get("ig")
        order = FakeOrder(
            number, str(tag) if tag else None, contract, side, quantity, price, now, now
        )
        self.orders[number] = order
        reason = self._rms_reason(order)
        self._publish(order)
        if reason:
            order.status, order.reason = "rejected", reason
            self._publish(order)
        else:
            order.blocked_margin = required
            self.available_margin -= required
            self._match(order)
        if self._hang_next:
            self._hang_next = False
            return None
        return _ok(number)

    def _modify(self, body: dict[str, object]) -> web.Response:
        order = self.orders.get(str(body.get("no")))
        if order is None:
            return _not_ok(1006, "Order already cancelled or not found.")
        if order.status != "open":
            return _not_ok(ORDER_COMPLETE_CODE, "order is completed")
        quantity, price = int(str(body.get("qt"))), float(str(body.get("pr")))
        if quantity < order.filled or quantity % order.contract.lot_size:
            return _not_ok(1009, "Invalid Quantity")
        self.available_margin += order.blocked_margin
        order.quantity, order.price, order.updated_s = quantity, price, self.seconds()
        order.blocked_margin = self._margin(order.contract, order.side, quantity, price)
        self.available_margin -= order.blocked_margin
        self._publish(order)
        self._match(order)
        return _ok(order.number)

    def _cancel(self, body: dict[str, object]) -> web.Response:
        order = self.orders.get(str(body.get("on")))
        if order is None:
            return _not_ok(1006, "Order already cancelled or not found.")
        if order.status != "open":
            return _not_ok(ORDER_COMPLETE_CODE, "order is completed")
        order.status, order.updated_s = "cancelled", self.seconds()
        order.reason = "Cancelled by user"
        unfilled = (order.quantity - order.filled) / order.quantity
        self.available_margin += order.blocked_margin * unfilled
        self._publish(order)
        return _ok(order.number)

    def _order_book(self, _: dict[str, object]) -> web.Response:
        return _listing([self._order_row(o) for o in self.orders.values()])

    def _trade_book(self, _: dict[str, object]) -> web.Response:
        return _listing(self.trades)

    def _positions(self, _: dict[str, object]) -> web.Response:
        return _listing([self._position_row(p) for p in self.positions.values()])

    def _limits(self, _: dict[str, object]) -> web.Response:
        return web.json_response(
            {
                "Category": "CLIENT",
                "EntityId": f"account-{self.ucc}",
                "Net": f"{self.available_margin:.2f}",
                "MarginUsed": f"{sum(o.blocked_margin for o in self.orders.values()):.2f}",
                "CollateralValue": "0",
                "stCode": 200,
                "stat": "Ok",
            }
        )

    # -- the matching engine --------------------------------------------------------------

    def _margin(self, contract: Instrument, side: str, quantity: int, price: float) -> float:
        if side == "B":
            return quantity * price
        return quantity * self.spot(contract.underlying) * SHORT_MARGIN_FRACTION

    def _rms_reason(self, order: FakeOrder) -> str:
        contract = order.contract
        if order.quantity > self.facts.contract(contract.underlying).freeze_quantity:
            return FREEZE_REASON.format(ucc=self.ucc)
        upper, lower = self.circuit_limits(self.quote(contract))
        if not lower <= order.price <= upper:
            return BAND_REASON.format(ucc=self.ucc)
        return ""

    def _match(self, order: FakeOrder) -> None:
        quote = self.quote(order.contract)
        assert quote.bid is not None
        assert quote.ask is not None
        if order.side == "B" and order.price >= quote.ask:
            price, size = quote.ask, quote.ask_size
        elif order.side == "S" and order.price <= quote.bid:
            price, size = quote.bid, quote.bid_size
        else:
            return
        quantity = min(size, order.quantity - order.filled)
        order.filled += quantity
        order.filled_value += quantity * price
        order.updated_s = self.seconds()
        if order.filled == order.quantity:
            order.status = "complete"
        self._publish(order)
        position = self.positions.setdefault(order.contract.token, FakePosition(order.contract))
        if order.side == "B":
            position.bought += quantity
            position.buy_value += quantity * price
        else:
            position.sold += quantity
            position.sell_value += quantity * price
        at = datetime.fromtimestamp(order.updated_s, IST)
        self.trades.append(
            {
                "nOrdNo": order.number,
                "flId": f"{next(self._fills):08d}",
                "exOrdId": f"1100000{order.number[-9:]}",
                "trdSym": order.contract.symbol,
                "tok": order.contract.token,
                "exSeg": "nse_fo",
                "qty": order.quantity,
                "fldQty": quantity,
                "avgPrc": f"{price:.2f}",
                "trnsTp": order.side,
                "prcTp": "L",
                "prod": "NRML",
                "ordDur": "DAY",
                "flDt": f"{at:%d-%b-%Y}",
                "flTm": f"{at:%H:%M:%S}",
                "exTm": f"{at:%d-%b-%Y %H:%M:%S}",
                "GuiOrdId": order.tag or "",
                "usrId": self.ucc,
            }
        )

    def _order_row(self, order: FakeOrder) -> dict[str, object]:
        placed = datetime.fromtimestamp(order.placed_s, IST)
        updated = datetime.fromtimestamp(order.updated_s, IST)
        average = order.filled_value / order.filled if order.filled else 0.0
        return {
            "nOrdNo": order.number,
            "ordSt": order.status,
            "trdSym": order.contract.symbol,
            "tok": order.contract.token,
            "exSeg": "nse_fo",
            "qty": order.quantity,
            "fldQty": order.filled,
            "unFldSz": order.quantity - order.filled,
            "prc": f"{order.price:.2f}",
            "avgPrc": f"{average:.2f}",
            "trnsTp": order.side,
            "prcTp": "L",
            "vldt": "DAY",
            "prod": "NRML",
            "rejRsn": order.reason,
            "GuiOrdId": order.tag or "",
            "ordGenTp": "",
            "ordDtTm": f"{placed:%d-%b-%Y %H:%M:%S}",
            "hsUpTm": f"{updated:%Y/%m/%d %H:%M:%S}",
            "actId": self.ucc,
        }

    def _position_row(self, position: FakePosition) -> dict[str, object]:
        contract = position.contract
        carried = position.carried_net
        cf_buy, cf_sell = max(carried, 0), max(-carried, 0)
        return {
            "actId": self.ucc,
            "prod": "NRML",
            "exSeg": "nse_fo",
            "trdSym": contract.symbol,
            "sym": contract.underlying,
            "tok": contract.token,
            "flBuyQty": str(position.bought),
            "flSellQty": str(position.sold),
            "buyAmt": f"{position.buy_value:.2f}",
            "sellAmt": f"{position.sell_value:.2f}",
            "cfBuyQty": str(cf_buy),
            "cfSellQty": str(cf_sell),
            "cfBuyAmt": f"{cf_buy * position.carried_price:.2f}",
            "cfSellAmt": f"{cf_sell * position.carried_price:.2f}",
            "lotSz": str(contract.lot_size),
            "brdLtQty": 1,
            "multiplier": "1",
            "genNum": "1",
            "genDen": "1",
            "prcNum": "1",
            "prcDen": "1",
            "precision": "2",
            "stkPrc": f"{contract.strike or 0:.2f}",
            "optTp": {"call": "CE", "put": "PE"}.get(contract.kind, "XX"),
            "hsUpTm": f"{datetime.fromtimestamp(self.seconds(), IST):%Y/%m/%d %H:%M:%S}",
        }


def _ok(number: str) -> web.Response:
    return web.json_response({"nOrdNo": number, "stat": "Ok", "stCode": 200})


def _not_ok(code: int, message: str, status: int = 200) -> web.Response:
    # Kotak documents ``emsg``; the SDK's own handling of 1021 reads ``errMsg``: both are sent.
    body = {"stat": "Not_Ok", "emsg": message, "errMsg": message, "stCode": code}
    return web.json_response(body, status=status)


def _listing(rows: list[dict[str, object]]) -> web.Response:
    if not rows:  # Kotak answers an empty book as an error, with the SDK's errMsg key only
        return web.json_response({"stat": "Not_Ok", "errMsg": "No Data", "stCode": NO_DATA_CODE})
    return web.json_response({"stat": "Ok", "stCode": 200, "data": rows})
