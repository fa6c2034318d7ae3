"""The Angel One SmartAPI order adapter: the ``BrokerOrders`` the execution service trades through.

Protected limit orders only (``ordertype: LIMIT``, ``variety: NORMAL``, ``duration: DAY``), each
tagged with a digest of its client order id in ``ordertag``, so that an order placed before a
timeout is found in the order book rather than sent again. SmartAPI accepts an order first and
its RMS or the exchange may reject it a moment later: ``place`` looks at the new order once
(the order-details call) so that such a refusal reaches the caller as ``OrderRefused`` with
Angel One's own text. docs/brokers/angel-one.md has the calls, the limits and each fault.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import aiohttp
import msgspec
import structlog

from optbus.clock import Clock
from optbus_brokers.angel_one.order_book import (
    ANGEL_TIMEZONE,
    Decoded,
    GarbledReply,
    OrderRow,
    PlacedOrder,
    PositionRow,
    RefusedReply,
    RmsLimits,
    TradeRow,
    broker_order,
    broker_position,
    broker_trade,
    decode_each,
    decode_reply,
    decode_rows,
    normalise_status,
    order_tag,
)
from optbus_brokers.angel_one.order_updates import OrderStatusConnection
from optbus_brokers.angel_one.rest import SmartApiRest, SmartApiSession
from optbus_brokers.angel_one.settings import AngelOneSettings
from optbus_brokers.feed import FeedDisconnected
from optbus_brokers.orders import (
    BrokerCharges,
    BrokerOrder,
    BrokerPosition,
    BrokerTrade,
    BrokerUnavailable,
    OrderRefused,
    OrderRequest,
)

PLACE_PATH = "/rest/secure/angelbroking/order/v1/placeOrder"
MODIFY_PATH = "/rest/secure/angelbroking/order/v1/modifyOrder"
CANCEL_PATH = "/rest/secure/angelbroking/order/v1/cancelOrder"
ORDER_BOOK_PATH = "/rest/secure/angelbroking/order/v1/getOrderBook"
TRADE_BOOK_PATH = "/rest/secure/angelbroking/order/v1/getTradeBook"
POSITION_PATH = "/rest/secure/angelbroking/order/v1/getPosition"
ORDER_DETAILS_PATH = "/rest/secure/angelbroking/order/v1/details/"
RMS_PATH = "/rest/secure/angelbroking/user/v1/getRMS"

ORDERS_PER_SECOND = 10.0
"""SmartAPI takes 20 orders a second, but the exchanges' retail-algo framework lets an
unregistered strategy send at most 10: the stricter of the two."""

SESSION_REFUSALS = frozenset({"AG8001", "AG8002", "AG8003"})
"""Invalid, expired or missing token: nothing was done; log in again and ask once more."""

_HTTP_UNAUTHORIZED = 401

_log = structlog.get_logger()

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class _Target:
    """What an order trades, as SmartAPI's order calls name it."""

    symbol: str
    token: str
    exchange: str


class AngelOneOrders:
    """Angel One's order API behind ``BrokerOrders``."""

    def __init__(self, settings: AngelOneSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._rest = SmartApiRest(settings, clock, settings.trading_api_key)
        self._session: SmartApiSession | None = None
        self._client_order_ids: dict[str, str] = {}  # order tag -> client order id
        self._targets: dict[str, _Target] = {}  # broker order id -> what it trades

    @property
    def name(self) -> str:
        return "angel-one"

    @property
    def orders_per_second(self) -> float:
        return ORDERS_PER_SECOND

    @property
    def has_order_updates(self) -> bool:
        return True

    def remember(self, client_order_ids: Iterable[str]) -> None:
        """Recognise these client order ids by their tags in the book (after a restart, the
        orders an earlier process placed)."""
        for client_order_id in client_order_ids:
            self._client_order_ids[order_tag(client_order_id)] = client_order_id

    async def login(self) -> None:
        """Renew the trading session, or log in afresh with the trading API key."""
        try:
            self._session = await self._rest.renew(self._session)
        except FeedDisconnected as error:
            raise BrokerUnavailable(str(error)) from None

    async def place(self, request: OrderRequest) -> str:
        instrument = request.instrument
        tag = order_tag(request.client_order_id)
        self._client_order_ids[tag] = request.client_order_id
        target = _Target(instrument.symbol, instrument.token, instrument.segment)
        body = self._order_fields(target, request.quantity, request.limit_price) | {
            "transactiontype": request.side.upper(),
            "squareoff": "0",
            "stoploss": "0",
            "ordertag": tag,
        }
        placed = await self._refusable(self._call("POST", PLACE_PATH, PlacedOrder, body))
        if placed is None:
            raise BrokerUnavailable("placeOrder succeeded without an order id")
        broker_order_id = str(placed.orderid)
        self._targets[broker_order_id] = target
        _log.info(
            "angel_one.order_placed",
            client_order_id=request.client_order_id,
            broker_order_id=broker_order_id,
        )
        if placed.uniqueorderid:
            await self._refuse_if_rejected(placed.uniqueorderid)
        return broker_order_id

    async def modify(self, broker_order_id: str, quantity: int, limit_price: float) -> None:
        target = self._targets.get(broker_order_id) or await self._target_of(broker_order_id)
        body = self._order_fields(target, quantity, limit_price) | {"orderid": broker_order_id}
        await self._refusable(self._call("POST", MODIFY_PATH, PlacedOrder, body))

    async def cancel(self, broker_order_id: str) -> None:
        body = {"variety": "NORMAL", "orderid": broker_order_id}
        await self._refusable(self._call("POST", CANCEL_PATH, PlacedOrder, body))

    async def order_book(self) -> list[BrokerOrder]:
        rows = await self._readable(self._call_rows(ORDER_BOOK_PATH))
        return _kept("order book", decode_each(rows, OrderRow, self._broker_order))

    async def trades(self) -> list[BrokerTrade]:
        # The trade book names no instrument token: the order book of the same day does.
        trade_rows = await self._readable(self._call_rows(TRADE_BOOK_PATH))
        tokens = {order.broker_order_id: order.token for order in await self.order_book()}
        trading_day = datetime.fromtimestamp(
            self._clock.now_ns() / 1_000_000_000, ANGEL_TIMEZONE
        ).date()

        def trade(row: TradeRow) -> BrokerTrade:
            return broker_trade(row, tokens[str(row.orderid)], trading_day)

        return _kept("trade book", decode_each(trade_rows, TradeRow, trade))

    async def positions(self) -> list[BrokerPosition]:
        rows = await self._readable(self._call_rows(POSITION_PATH))
        held = _kept("positions", decode_each(rows, PositionRow, broker_position))
        return [position for position in held if position.net_quantity != 0]

    async def available_margin(self) -> float:
        limits = await self._readable(self._call("GET", RMS_PATH, RmsLimits))
        if limits is None:
            raise BrokerUnavailable("getRMS answered without limits")
        return limits.net

    async def charges(self, broker_order_id: str) -> BrokerCharges | None:
        """SmartAPI reports no charges of an executed order (its estimateCharges call prices
        a hypothetical one); optbus's own computation stands alone."""
        return None

    async def connect_order_updates(self) -> OrderStatusConnection:
        """Open the order-status WebSocket; on a refused session, log in again once."""
        try:
            return await self._open_order_updates()
        except aiohttp.WSServerHandshakeError as error:
            if error.status != _HTTP_UNAUTHORIZED:
                raise BrokerUnavailable(f"order-status handshake: HTTP {error.status}") from None
        await self.login()
        try:
            return await self._open_order_updates()
        except aiohttp.WSServerHandshakeError as error:
            raise BrokerUnavailable(f"order-status handshake: HTTP {error.status}") from None

    # -- the calls ------------------------------------------------------------------------------

    def _order_fields(self, target: _Target, quantity: int, limit_price: float) -> dict[str, str]:
        return {
            "variety": "NORMAL",
            "tradingsymbol": target.symbol,
            "symboltoken": target.token,
            "exchange": target.exchange,
            "ordertype": "LIMIT",
            "producttype": self._settings.order_product,
            "duration": "DAY",
            "price": f"{limit_price:.2f}",
            "quantity": str(quantity),
        }

    def _client_order_id(self, tag: str) -> str | None:
        return self._client_order_ids.get(tag)

    def _broker_order(self, row: OrderRow) -> BrokerOrder:
        return broker_order(row, self._client_order_id)

    async def _refuse_if_rejected(self, unique_order_id: str) -> None:
        try:
            order = await self._call("GET", ORDER_DETAILS_PATH + unique_order_id, OrderRow)
        except (BrokerUnavailable, RefusedReply) as error:
            # Accepted, with an id: its fate reaches the caller on the stream and in the book.
            _log.info("angel_one.order_details_unavailable", reason=str(error))
            return
        if order is not None and normalise_status(order.orderstatus or order.status) == (
            "rejected"
        ):
            raise OrderRefused(order.text or "rejected")

    async def _target_of(self, broker_order_id: str) -> _Target:
        """What an order placed by an earlier process trades, from the order book."""
        rows = await self._readable(self._call_rows(ORDER_BOOK_PATH))
        for row in decode_each(rows, OrderRow, lambda row: row).rows:
            if str(row.orderid) == broker_order_id:
                return _Target(row.tradingsymbol, row.symboltoken, row.exchange)
        raise OrderRefused(f"order {broker_order_id} is not in the order book")

    async def _refusable(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except RefusedReply as refused:
            raise OrderRefused(str(refused)) from None

    async def _readable(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except RefusedReply as refused:
            raise BrokerUnavailable(f"SmartAPI refused a read: {refused}") from None

    async def _call_rows(self, path: str) -> list[msgspec.Raw]:
        return await self._call_decoded("GET", path, None, decode_rows)

    async def _call(
        self, method: str, path: str, data_type: type[T], body: object = None
    ) -> T | None:
        return await self._call_decoded(
            method, path, body, lambda payload: decode_reply(payload, data_type)
        )

    async def _call_decoded(
        self, method: str, path: str, body: object, decode: Callable[[bytes], U]
    ) -> U:
        if self._session is None:
            await self.login()
        for attempt in range(2):
            assert self._session is not None
            payload = await self._rest.secure(method, path, self._session, body)
            try:
                return decode(payload)
            except GarbledReply as garbled:
                raise BrokerUnavailable(f"SmartAPI {path}: no SmartAPI reply ({garbled})") from None
            except RefusedReply as refused:
                if refused.code not in SESSION_REFUSALS or attempt == 1:
                    raise
            await self.login()
        raise AssertionError("unreachable")

    async def _open_order_updates(self) -> OrderStatusConnection:
        if self._session is None:
            await self.login()
        assert self._session is not None
        api_key = self._settings.trading_api_key or self._settings.api_key
        headers = {
            "Authorization": f"Bearer {self._session.jwt_token.get_secret_value()}",
            "x-api-key": api_key.get_secret_value(),
            "x-client-code": self._settings.client_code,
            "x-feed-token": self._session.feed_token.get_secret_value(),
        }
        http = aiohttp.ClientSession()
        try:
            async with asyncio.timeout(self._settings.request_timeout_seconds):
                ws = await http.ws_connect(
                    self._settings.order_updates_url,
                    headers=headers,
                    heartbeat=self._settings.heartbeat_seconds,
                )
        except aiohttp.WSServerHandshakeError:
            await http.close()
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            await http.close()
            raise BrokerUnavailable(
                f"order-status stream unreachable: {type(error).__name__}"
            ) from None
        return OrderStatusConnection(
            http, ws, self._settings.silence_timeout_seconds, self._client_order_id
        )


def _kept(what: str, decoded: Decoded[T]) -> list[T]:
    if decoded.skipped:
        _log.warning(
            "angel_one.rows_skipped", what=what, rows=len(decoded.skipped), first=decoded.skipped[0]
        )
    return decoded.rows


def make_orders(clock: Clock, settings: AngelOneSettings | None = None) -> AngelOneOrders:
    """The Angel One order adapter the execution service composes by name (``angel-one``), on
    the ``OPTBUS_ANGEL_ONE_*`` settings of the environment unless ``settings`` are given."""
    return AngelOneOrders(settings or AngelOneSettings(), clock)
