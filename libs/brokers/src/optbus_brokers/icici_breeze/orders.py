"""ICICI Breeze as a ``BrokerOrders``: signed REST calls to ``order``, ``trades``,
``portfoliopositions`` and ``funds``, as breeze-connect 1.0.69 makes them.

Every call but the login carries ``X-Checksum: token sha256(timestamp + body + secret)`` with
the timestamp of the injected clock, the app key and the base64 ``user:session-key`` pair the
customer-details call returned. Breeze names contracts by stock code, expiry, right and
strike, so logging in also reads the security master, to turn its rows back into tokens.
The client order id rides in ``user_remark``, Breeze's only free field of an order, which its
order book shows again: that is how a placement whose answer was lost is found.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import aiohttp

from optbus.clock import Clock
from optbus_brokers.feed import FeedDisconnected, FeedLoginFailed
from optbus_brokers.icici_breeze.feed import NAME, BreezeSession, download_instruments, open_session
from optbus_brokers.icici_breeze.order_rows import (
    EXCHANGE,
    INDIA,
    ContractKey,
    UnreadableAnswer,
    breeze_day,
    contract_key,
    decode_execution,
    decode_fno_margin,
    decode_order,
    decode_position,
    modification,
    placement,
)
from optbus_brokers.icici_breeze.settings import BreezeSettings
from optbus_brokers.orders import (
    BrokerCharges,
    BrokerOrder,
    BrokerPosition,
    BrokerTrade,
    BrokerUnavailable,
    OrderRefused,
    OrderRequest,
    OrderUpdateConnection,
)

log = logging.getLogger(__name__)

# Breeze answers an empty book, trade list or position list with this refusal.
_NO_DATA = "No Data Found"
_NS_PER_SECOND = 1_000_000_000
_Row = TypeVar("_Row")


class _Refusal(Exception):
    """Breeze answered with ``Success: null`` and its reason in ``Error``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BreezeOrders:
    """ICICI Breeze's order API behind the order port. Order updates are polled (see docs)."""

    def __init__(self, settings: BreezeSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        trading_app = bool(settings.trading_api_key.get_secret_value())
        self._secret_variable = "TRADING_SECRET_KEY" if trading_app else "SECRET_KEY"
        self._api_key = settings.trading_api_key if trading_app else settings.api_key
        self._secret_key = settings.trading_secret_key if trading_app else settings.secret_key
        self._session_token = (
            settings.trading_session_token if trading_app else settings.session_token
        )
        self._session: BreezeSession | None = None
        self._tokens: dict[ContractKey, str] = {}

    def __repr__(self) -> str:
        logged_in = self._session is not None
        return f"BreezeOrders(api_url={self._settings.api_url!r}, logged_in={logged_in})"

    @property
    def name(self) -> str:
        return NAME

    @property
    def orders_per_second(self) -> float:
        return self._settings.orders_per_second

    @property
    def has_order_updates(self) -> bool:
        return False

    def remember(self, client_order_ids: Iterable[str]) -> None:
        """Nothing to learn: the broker's book echoes each order's client order id whole."""

    async def login(self) -> None:
        if not self._secret_key.get_secret_value():
            raise FeedLoginFailed(
                f"OPTBUS_ICICI_BREEZE_{self._secret_variable} is not set: orders are signed with it"
            )
        settings = self._settings
        try:
            self._session = await open_session(
                settings.api_url, self._api_key, self._session_token, settings.request_timeout_s
            )
            instruments = await download_instruments(
                settings.instruments_url, settings.request_timeout_s
            )
        except FeedDisconnected as error:
            raise BrokerUnavailable(str(error)) from None
        self._tokens = {
            contract_key(i): i.token for i in instruments if i.kind in ("call", "put", "future")
        }
        log.info("logged in to ICICI Breeze for orders (%d contracts)", len(self._tokens))

    async def place(self, request: OrderRequest) -> str:
        try:
            success = await self._call("POST", "order", placement(request))
        except _Refusal as refusal:
            raise OrderRefused(refusal.reason) from None
        order_id = success.get("order_id") if isinstance(success, Mapping) else None
        if not isinstance(order_id, str) or not order_id:
            # Breeze answered without an order id: whether it placed the order is unknown.
            raise BrokerUnavailable("Breeze placement answer has no order id")
        return order_id

    async def modify(self, broker_order_id: str, quantity: int, limit_price: float) -> None:
        try:
            await self._call("PUT", "order", modification(broker_order_id, quantity, limit_price))
        except _Refusal as refusal:
            raise OrderRefused(refusal.reason) from None

    async def cancel(self, broker_order_id: str) -> None:
        try:
            await self._call(
                "DELETE", "order", {"exchange_code": EXCHANGE, "order_id": broker_order_id}
            )
        except _Refusal as refusal:
            raise OrderRefused(refusal.reason) from None

    async def order_book(self) -> list[BrokerOrder]:
        today = breeze_day(datetime.fromtimestamp(self._now_s(), INDIA).date())
        rows = await self._rows(
            "order", {"exchange_code": EXCHANGE, "from_date": today, "to_date": today}
        )
        return self._decoded(rows, lambda row: decode_order(row, self._tokens))

    async def trades(self) -> list[BrokerTrade]:
        # The trade list sums each order's executions; only an order's trade detail has the
        # exchange's trade ids, so it is asked for each order with a fill.
        executions: list[BrokerTrade] = []
        for order in await self.order_book():
            if order.filled_quantity == 0:
                continue
            rows = await self._rows(
                "trades", {"exchange_code": EXCHANGE, "order_id": order.broker_order_id}
            )
            executions += self._decoded(rows, partial(_execution_of, order))
        return executions

    async def positions(self) -> list[BrokerPosition]:
        rows = await self._rows("portfoliopositions", {})
        return self._decoded(rows, lambda row: decode_position(row, self._tokens))

    async def available_margin(self) -> float:
        try:
            return decode_fno_margin(await self._call("GET", "funds", {}))
        except _Refusal as refusal:
            raise BrokerUnavailable(f"Breeze refused the funds call: {refusal.reason}") from None
        except UnreadableAnswer as error:
            raise BrokerUnavailable(f"Breeze funds unreadable: {error}") from None

    async def charges(self, broker_order_id: str) -> BrokerCharges | None:
        """Breeze reports brokerage and one total per trade, not the split optbus stores."""
        del broker_order_id
        return None

    async def connect_order_updates(self) -> OrderUpdateConnection:
        raise BrokerUnavailable("Breeze order updates are polled from the order book")

    async def _rows(self, endpoint: str, body: dict[str, str]) -> list[object]:
        try:
            success = await self._call("GET", endpoint, body)
        except _Refusal as refusal:
            if refusal.reason == _NO_DATA:
                return []
            raise BrokerUnavailable(f"Breeze refused {endpoint}: {refusal.reason}") from None
        if not isinstance(success, list):
            raise BrokerUnavailable(f"Breeze {endpoint} answer is not a list")
        return success

    @staticmethod
    def _decoded(rows: list[object], decode: Callable[[object], _Row | None]) -> list[_Row]:
        """Every row decoded; an unreadable row makes the whole answer unusable, since a
        missing order or position would mislead reconciliation."""
        values: list[_Row] = []
        for row in rows:
            try:
                value = decode(row)
            except UnreadableAnswer as error:
                raise BrokerUnavailable(f"Breeze answer unreadable: {error}") from None
            if value is not None:
                values.append(value)
        return values

    async def _call(self, method: str, endpoint: str, fields: dict[str, str]) -> object:
        """Breeze's ``Success`` for a signed call; ``_Refusal`` with its ``Error``, or
        ``BrokerUnavailable`` when no readable answer came."""
        if self._session is None:
            raise FeedLoginFailed("log in to ICICI Breeze before trading")
        body = json.dumps(fields, separators=(",", ":"))
        timeout = aiohttp.ClientTimeout(total=self._settings.request_timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.request(
                    method,
                    self._settings.api_url + endpoint,
                    data=body,
                    headers=self._headers(body, self._session),
                ) as reply,
            ):
                answer = await reply.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise BrokerUnavailable(
                f"Breeze {endpoint} call failed: {type(error).__name__}"
            ) from None
        if not isinstance(answer, Mapping):
            raise BrokerUnavailable(f"Breeze {endpoint} answer is not a JSON object")
        success = answer.get("Success")
        if success is None or answer.get("Status") != 200:
            raise _Refusal(f"{answer.get('Error')}"[:200])
        return success

    def _headers(self, body: str, session: BreezeSession) -> dict[str, str]:
        stamp = datetime.fromtimestamp(self._now_s(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        secret = self._secret_key.get_secret_value()
        checksum = hashlib.sha256((stamp + body + secret).encode()).hexdigest()
        pair = f"{session.user_id}:{session.session_key.get_secret_value()}"
        return {
            "Content-Type": "application/json",
            "X-Checksum": f"token {checksum}",
            "X-Timestamp": stamp,
            "X-AppKey": self._api_key.get_secret_value(),
            "X-SessionToken": _base64(pair),
        }

    def _now_s(self) -> int:
        return self._clock.now_ns() // _NS_PER_SECOND


def _base64(text: str) -> str:
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def _execution_of(order: BrokerOrder, row: object) -> BrokerTrade:
    return decode_execution(row, order)


def make_orders(clock: Clock, settings: BreezeSettings | None = None) -> BreezeOrders:
    """Breeze's order API from ``OPTBUS_ICICI_BREEZE_*``, as the execution service builds it;
    the clock stamps each call's checksum and dates the order book."""
    return BreezeOrders(settings or BreezeSettings(), clock)
