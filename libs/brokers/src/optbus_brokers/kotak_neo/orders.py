"""The Kotak Neo order adapter: the ``BrokerOrders`` port over Kotak's Trade API (NEST OMS).

Like the feed it speaks Kotak's documented REST protocol itself (docs/brokers/kotak-neo.md
says why not through the SDK): form posts of one ``jData`` JSON field, with the trade
session's ``Sid`` and ``Auth`` headers. Orders are DAY limit orders in the configured product,
optbus's client order id in the order tag (``ig``, echoed back as ``GuiOrdId``). Kotak's order
API has no algo-id field, so ``OrderRequest.algo_id`` is not sent. Kotak reports no charges per
order. Order updates come from Kotak's order feed, a WebSocket that pushes each order's new
state as an order-book row.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import httpx
import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.frames import CloseCode

from optbus.clock import Clock
from optbus_brokers.feed import FeedDisconnected, FeedLoginFailed
from optbus_brokers.kotak_neo.book import (
    Unreadable,
    decode_order,
    decode_order_feed_message,
    decode_position,
    decode_trade,
)
from optbus_brokers.kotak_neo.session import TradeSession, open_trade_session
from optbus_brokers.kotak_neo.settings import API_URL, KotakNeoSettings
from optbus_brokers.orders import (
    BrokerCharges,
    BrokerOrder,
    BrokerPosition,
    BrokerTrade,
    BrokerUnavailable,
    OrderRefused,
    OrderRequest,
    OrderUpdate,
)

NAME: Final = "kotak-neo"
PLACE_PATH: Final = "/quick/order/rule/ms/place"
MODIFY_PATH: Final = "/quick/order/vr/modify"
CANCEL_PATH: Final = "/quick/order/cancel"
ORDER_BOOK_PATH: Final = "/quick/user/orders"
TRADE_BOOK_PATH: Final = "/quick/user/trades"
POSITIONS_PATH: Final = "/portfolio/v2/positions"
LIMITS_PATH: Final = "/quick/user/limits"
ORDER_FEED_PATH: Final = "/realtime"
# The order source the official SDK stamps on every order it places or modifies.
ORDER_SOURCE: Final = "NEOTRADEAPI"
# How Kotak answers a read with nothing to list (an empty order book in the morning).
NO_DATA_CODE: Final = 5203
# A session Kotak no longer honours: ended at the day's end, or by a later login elsewhere.
INVALID_SESSION_CODE: Final = 1003
_SIDES: Final = {"buy": "B", "sell": "S"}
_log = structlog.get_logger()
RowT = TypeVar("RowT")


class KotakNeoOrders:
    """Kotak Neo's order API behind the ``BrokerOrders`` port."""

    def __init__(self, settings: KotakNeoSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._session: TradeSession | None = None
        # Set when Kotak refused the session (HTTP 401, or the order feed closed for policy):
        # the next call logs in again first.
        self._session_refused = False
        self._http = httpx.AsyncClient(timeout=settings.order_timeout_seconds)

    @property
    def name(self) -> str:
        return NAME

    @property
    def orders_per_second(self) -> float:
        return self._settings.orders_per_second

    @property
    def has_order_updates(self) -> bool:
        return True

    def remember(self, client_order_ids: Iterable[str]) -> None:
        """Nothing to learn: the broker's book echoes each order's client order id whole."""

    async def login(self) -> None:
        """The same TOTP and MPIN login as the feed: a Kotak account has one trade session."""
        try:
            self._session = await open_trade_session(self._settings, self._clock, self._http)
        except FeedDisconnected as error:
            raise BrokerUnavailable(str(error)) from error
        self._session_refused = False

    async def place(self, request: OrderRequest) -> str:
        answer = await self._post(
            PLACE_PATH,
            {
                "am": "NO",
                "dq": "0",
                "es": request.instrument.segment,
                "mp": "0",
                "pc": self._settings.product,
                "pf": "N",
                "pr": _price(request.limit_price),
                "pt": "L",
                "qt": str(request.quantity),
                "rt": "DAY",
                "tp": "0",
                "ts": request.instrument.symbol,
                "tt": _SIDES[request.side],
                "ig": request.client_order_id,
                "os": ORDER_SOURCE,
            },
        )
        order_id = answer.get("nOrdNo")
        if not isinstance(order_id, str | int) or str(order_id) == "":
            raise BrokerUnavailable("Kotak Neo accepted the order without an order number")
        return str(order_id)

    async def modify(self, broker_order_id: str, quantity: int, limit_price: float) -> None:
        await self._post(
            MODIFY_PATH,
            {
                "am": "NO",
                "dq": "0",
                "mp": "0",
                "no": broker_order_id,
                "pr": _price(limit_price),
                "pt": "L",
                "qt": str(quantity),
                "tp": "0",
                "vd": "DAY",
                "os": ORDER_SOURCE,
            },
        )

    async def cancel(self, broker_order_id: str) -> None:
        await self._post(CANCEL_PATH, {"on": broker_order_id, "am": "NO"})

    async def order_book(self) -> list[BrokerOrder]:
        return _decoded("order", await self._rows(ORDER_BOOK_PATH), decode_order)

    async def trades(self) -> list[BrokerTrade]:
        return _decoded("trade", await self._rows(TRADE_BOOK_PATH), decode_trade)

    async def positions(self) -> list[BrokerPosition]:
        return _decoded("position", await self._rows(POSITIONS_PATH), decode_position)

    async def available_margin(self) -> float:
        answer = await self._call("POST", LIMITS_PATH, {"seg": "ALL", "exch": "ALL", "prod": "ALL"})
        _require_ok(answer, BrokerUnavailable)
        try:
            return float(answer["Net"])
        except (KeyError, TypeError, ValueError):
            raise BrokerUnavailable("Kotak Neo limits carry no readable Net") from None

    async def charges(self, broker_order_id: str) -> BrokerCharges | None:
        """Kotak's Trade API reports no charges per order: the contract note is the record."""
        return None

    async def connect_order_updates(self) -> KotakNeoOrderFeed:
        """Open the order feed and send its connection string (not JSON: the SDK's layout).

        A refused session shows as the feed closing for policy: ``items()`` raises
        ``BrokerUnavailable``, and the next connection logs in again first.
        """
        if self._session_refused:
            await self.login()
        session = self._require_session()
        url = (
            self._settings.order_feed_url
            or session.order_feed_url
            or _realtime_url(self._settings.api_url or session.base_url or API_URL)
        )
        settings = self._settings
        try:
            websocket = await connect(
                url,
                ping_interval=settings.ping_interval_seconds,
                ping_timeout=settings.ping_timeout_seconds,
                open_timeout=settings.auth_timeout_seconds,
            )
            await websocket.send(
                f"{{type:cn,Authorization:{session.token.get_secret_value()},"
                f"Sid:{session.sid.get_secret_value()},src:WEB}}"
            )
        except (OSError, TimeoutError, WebSocketException) as error:
            raise BrokerUnavailable(f"order feed unreachable: {type(error).__name__}") from error
        return KotakNeoOrderFeed(websocket, self._refuse_session)

    def _refuse_session(self) -> None:
        self._session_refused = True

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _post(self, path: str, body: Mapping[str, str]) -> dict[str, Any]:
        """An order call: a ``Not_Ok`` answer is the broker's refusal, with its own text."""
        answer = await self._call("POST", path, body)
        _require_ok(answer, OrderRefused)
        return answer

    async def _rows(self, path: str) -> list[Mapping[str, object]]:
        answer = await self._call("GET", path, None)
        if answer.get("stCode") == NO_DATA_CODE:
            return []
        _require_ok(answer, BrokerUnavailable)
        data = answer.get("data")
        if data is None:
            return []
        if not isinstance(data, list):
            raise BrokerUnavailable(f"Kotak Neo {path} answered no list")
        return [row for row in data if isinstance(row, dict)]

    async def _call(self, method: str, path: str, body: Mapping[str, str] | None) -> dict[str, Any]:
        """One call; a session Kotak no longer honours is logged in again and the call sent
        once more (safe for a placement too: Kotak refused it, nothing was placed)."""
        answer = await self._call_once(method, path, body)
        if answer.get("stCode") == INVALID_SESSION_CODE or self._session_refused:
            _log.warning("kotak_neo_session_renewed", path=path)
            await self.login()
            answer = await self._call_once(method, path, body)
        return answer

    async def _call_once(
        self, method: str, path: str, body: Mapping[str, str] | None
    ) -> dict[str, Any]:
        session = self._require_session()
        root = self._settings.api_url or session.base_url or API_URL
        headers = {
            "Authorization": self._settings.consumer_key.get_secret_value(),
            "Sid": session.sid.get_secret_value(),
            "Auth": session.token.get_secret_value(),
            "neo-fin-key": self._settings.neo_fin_key,
            "accept": "application/json",
        }
        form = {"jData": json.dumps(body)} if body is not None else None
        try:
            response = await self._http.request(
                method, root.rstrip("/") + path, headers=headers, data=form
            )
        except httpx.HTTPError as error:
            raise BrokerUnavailable(f"Kotak Neo {path}: {type(error).__name__}") from error
        self._session_refused = response.status_code == httpx.codes.UNAUTHORIZED
        if response.status_code >= 500 or response.status_code == 429:
            raise BrokerUnavailable(f"Kotak Neo {path}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise BrokerUnavailable(f"Kotak Neo {path}: HTTP {response.status_code}, not JSON")
        return answer

    def _require_session(self) -> TradeSession:
        if self._session is None:
            raise FeedLoginFailed("not logged in: call login() first")
        return self._session


class KotakNeoOrderFeed:
    """One open order feed: order updates until it drops."""

    def __init__(self, websocket: ClientConnection, on_refused: Callable[[], None]) -> None:
        self._websocket = websocket
        self._on_refused = on_refused

    async def items(self) -> AsyncIterator[OrderUpdate]:
        try:
            async for message in self._websocket:
                update = decode_order_feed_message(message)
                if isinstance(update, Unreadable):
                    _log.warning("kotak_neo_order_feed_frame_skipped", reason=update.reason)
                elif update is not None:
                    yield update
        except ConnectionClosed as error:
            if error.rcvd is not None and error.rcvd.code == CloseCode.POLICY_VIOLATION:
                self._on_refused()
            raise BrokerUnavailable(f"order feed closed: {error}") from error
        raise BrokerUnavailable("order feed closed the connection")

    async def close(self) -> None:
        await self._websocket.close()


def _realtime_url(rest_root: str) -> str:
    """The order feed on the REST host, as the SDK derives it: ``wss://<host>/realtime``."""
    parts = urlsplit(rest_root)
    scheme = "ws" if parts.scheme == "http" else "wss"
    return f"{scheme}://{parts.netloc}{ORDER_FEED_PATH}"


def _require_ok(answer: Mapping[str, Any], refusal: type[Exception]) -> None:
    """Raise ``refusal`` with Kotak's own text (and code) unless the answer is ``Ok``."""
    if str(answer.get("stat", "")).lower() == "ok" or answer.get("stCode") == 200:
        return
    text = answer.get("emsg") or answer.get("errMsg") or answer.get("message") or "refused"
    raise refusal(f"{text} (stCode {answer.get('stCode')})")


def _decoded(
    kind: str,
    rows: list[Mapping[str, object]],
    decode: Callable[[Mapping[str, object]], RowT | Unreadable | None],
) -> list[RowT]:
    """Every row ``decode`` reads; an unreadable row is logged with its reason and skipped."""
    decoded: list[RowT] = []
    for row in rows:
        item = decode(row)
        if isinstance(item, Unreadable):
            _log.warning("kotak_neo_row_skipped", kind=kind, reason=item.reason)
        elif item is not None:
            decoded.append(item)
    return decoded


def _price(rupees: float) -> str:
    return f"{rupees:.2f}"


def make_orders(clock: Clock, settings: KotakNeoSettings | None = None) -> KotakNeoOrders:
    """The order adapter for ``kotak-neo``, from the same ``OPTBUS_KOTAK_NEO_*`` settings."""
    return KotakNeoOrders(settings or KotakNeoSettings(), clock)
