"""A local Angel One: SmartAPI's REST login, its scrip master and SmartStream 2.0, on loopback.

Written from SmartAPI's public documentation and checked against the official SDK
(tests/brokers/test_angel_one_fake_against_sdk.py): the SDK's own ``SmartConnect`` logs in here
and its own ``SmartWebSocketV2`` parser decodes the frames this fake sends.

- REST: ``loginByPassword`` (client code, PIN, TOTP checked against the secret at the injected
  clock's time), ``generateTokens`` (refresh), ``getProfile``; every call must carry the API key
  as ``X-PrivateKey``. Refusals are SmartAPI's: HTTP 200, ``status: false``, an error code.
- The scrip master: NIFTY and BANKNIFTY (index, near future, two expiries of options with ±40
  strikes around the spot), dated from the injected ``today``, plus rows of kinds an index
  feed must ignore (a stock, a stock option).
- SmartStream: the handshake checks the four headers; subscribe/unsubscribe JSON; text ``ping``
  answered ``pong``; a SNAP_QUOTE frame per subscribed token each round the test publishes
  (or on a timer); and, on the test's word, a dropped connection or any raw frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyotp
from aiohttp import WSMsgType, web

from optbus.clock import Clock
from optbus.market import MarketFacts, load_market_facts
from optbus_brokers.angel_one.orders import (
    CANCEL_PATH,
    MODIFY_PATH,
    ORDER_BOOK_PATH,
    ORDER_DETAILS_PATH,
    PLACE_PATH,
    POSITION_PATH,
    RMS_PATH,
    TRADE_BOOK_PATH,
)
from optbus_brokers.angel_one.rest import SmartApiSession
from optbus_brokers.angel_one.settings import AngelOneSettings
from optbus_brokers.angel_one.smartstream import (
    EXCHANGE_TYPES,
    MAX_TOKENS_PER_SESSION,
    SNAP_QUOTE_MODE,
)
from optbus_brokers.feed import Instrument
from tests.brokers.angel_one_order_desk import (
    DeskRefusal,
    FakeOrder,
    FakePosition,
    OrderDesk,
    circuit_limits,
)
from tests.brokers.quote_model import ModelQuote, QuoteModel

LOGIN_PATH = "/rest/auth/angelbroking/user/v1/loginByPassword"
REFRESH_PATH = "/rest/auth/angelbroking/jwt/v1/generateTokens"
PROFILE_PATH = "/rest/secure/angelbroking/user/v1/getProfile"
MASTER_PATH = "/OpenAPI_File/files/OpenAPIScripMaster.json"
STREAM_PATH = "/smart-stream"
ORDER_UPDATES_PATH = "/smart-order-update"

INDEX_TOKENS = {"NIFTY": ("99926000", "Nifty 50"), "BANKNIFTY": ("99926009", "Nifty Bank")}
STRIKES_EACH_SIDE = 40
_FIRST_DERIVATIVE_TOKEN = 40_000
_NS_PER_MS = 1_000_000
_PAISE = 100


@dataclass(frozen=True)
class AngelOneAccount:
    """The one account the fake knows; tests log in with it (or with something else)."""

    api_key: str = "fake-api-key"
    trading_api_key: str = "fake-trading-api-key"
    client_code: str = "A1234567"
    pin: str = "4321"
    totp_secret: str = field(default_factory=pyotp.random_base32)


@dataclass
class _Subscriber:
    ws: web.WebSocketResponse
    request: web.Request
    tokens: dict[str, int] = field(default_factory=dict)  # token -> exchange type


class AngelOneFake:
    """Angel One on ``127.0.0.1``; ``async with AngelOneFake(...) as fake``."""

    def __init__(
        self,
        today: date,
        clock: Clock,
        *,
        account: AngelOneAccount | None = None,
        model: QuoteModel | None = None,
        facts: MarketFacts | None = None,
    ) -> None:
        self.account = account or AngelOneAccount()
        self.model = model or QuoteModel()
        self.clock = clock
        self._facts = facts or load_market_facts()
        self.instruments = _master_instruments(today, self.model.spots, self._facts)
        self._by_token = {instrument.token: instrument for instrument in self.instruments}
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._issued = 0
        self._valid_jwts: set[str] = set()
        self._valid_refresh: set[str] = set()
        self._feed_tokens: set[str] = set()
        self._subscribers: list[_Subscriber] = []
        self._changed = asyncio.Condition()
        self._streaming: asyncio.Task[None] | None = None
        self.rounds = 0
        self.logins = 0
        self.refreshes = 0
        self.connections = 0
        self.pings = 0
        self.requests: list[str] = []  # every request line and text frame received, for tests
        self.sent_touches: dict[str, set[tuple[float | None, float | None]]] = defaultdict(set)
        """Every (bid, ask) each token was quoted at, for tests that check what arrived."""
        self.desk = OrderDesk(
            client_code=self.account.client_code,
            clock=clock,
            facts=self._facts,
            quote=self.quote,
            instrument=self._by_token.get,
            spot=lambda underlying: self.model.spots[underlying],
            publish=self._publish_order_status,
        )
        self._order_listeners: list[web.WebSocketResponse] = []
        self._released = asyncio.Event()
        self.down = False
        """While true every REST call is answered HTTP 503 and no order-status socket opens."""
        self.time_out_next_placement = False
        """The next order is placed, but its reply never comes (until the fake closes)."""
        self.lose_next_placement = False
        """The next placement is answered HTTP 503 before the desk sees it (never placed)."""

    # -- life cycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> AngelOneFake:
        app = web.Application()
        app.router.add_post(LOGIN_PATH, self._login)
        app.router.add_post(REFRESH_PATH, self._refresh)
        app.router.add_get(PROFILE_PATH, self._profile)
        app.router.add_get(MASTER_PATH, self._master)
        app.router.add_get(STREAM_PATH, self._stream)
        app.router.add_post(PLACE_PATH, self._place)
        app.router.add_post(MODIFY_PATH, self._modify)
        app.router.add_post(CANCEL_PATH, self._cancel)
        app.router.add_get(ORDER_BOOK_PATH, self._order_book)
        app.router.add_get(ORDER_DETAILS_PATH + "{unique}", self._order_details)
        app.router.add_get(TRADE_BOOK_PATH, self._trade_book)
        app.router.add_get(POSITION_PATH, self._positions)
        app.router.add_get(RMS_PATH, self._rms)
        app.router.add_get(ORDER_UPDATES_PATH, self._order_updates)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._released.set()
        await self.stop_streaming()
        await self.drop_connections()
        for listener in list(self._order_listeners):
            await listener.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}{STREAM_PATH}"

    @property
    def instruments_url(self) -> str:
        return f"{self.api_url}{MASTER_PATH}"

    @property
    def order_updates_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}{ORDER_UPDATES_PATH}"

    def environment(self) -> dict[str, str]:
        """The ``OPTBUS_ANGEL_ONE_*`` variables that point the adapter at this fake."""
        return {
            "OPTBUS_ANGEL_ONE_API_URL": self.api_url,
            "OPTBUS_ANGEL_ONE_WS_URL": self.ws_url,
            "OPTBUS_ANGEL_ONE_INSTRUMENTS_URL": self.instruments_url,
            "OPTBUS_ANGEL_ONE_ORDER_UPDATES_URL": self.order_updates_url,
            "OPTBUS_ANGEL_ONE_API_KEY": self.account.api_key,
            "OPTBUS_ANGEL_ONE_TRADING_API_KEY": self.account.trading_api_key,
            "OPTBUS_ANGEL_ONE_CLIENT_CODE": self.account.client_code,
            "OPTBUS_ANGEL_ONE_PIN": self.account.pin,
            "OPTBUS_ANGEL_ONE_TOTP_SECRET": self.account.totp_secret,
        }

    def settings(self, **overrides: object) -> AngelOneSettings:
        """Settings that point the adapters at this fake, with ``overrides``."""
        values: dict[str, object] = {
            "api_url": self.api_url,
            "ws_url": self.ws_url,
            "order_updates_url": self.order_updates_url,
            "instruments_url": self.instruments_url,
            "api_key": self.account.api_key,
            "trading_api_key": self.account.trading_api_key,
            "client_code": self.account.client_code,
            "pin": self.account.pin,
            "totp_secret": self.account.totp_secret,
        }
        return AngelOneSettings(**(values | overrides))  # type: ignore[arg-type]

    def instrument(self, token: str) -> Instrument:
        return self._by_token[token]

    def secrets_shown(self, session: SmartApiSession | None, *shown: object) -> list[str]:
        """The account's secrets and ``session``'s tokens that appear in any of ``shown``
        (captured log lines, settings, ...), each as its ``repr`` and ``str``."""
        assert session is not None
        text = "".join(repr(each) + str(each) for each in (*shown, session))
        secrets = [
            self.account.api_key,
            self.account.trading_api_key,
            self.account.pin,
            self.account.totp_secret,
            session.jwt_token.get_secret_value(),
            session.refresh_token.get_secret_value(),
            session.feed_token.get_secret_value(),
        ]
        return [secret for secret in secrets if secret in text]

    # -- what a test does to the market -------------------------------------------------------

    def subscribed_tokens(self) -> set[str]:
        return {token for subscriber in self._subscribers for token in subscriber.tokens}

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Until ``condition`` holds, checked whenever a session opens, pings or subscribes."""
        async with self._changed:
            await self._changed.wait_for(condition)

    async def wait_for_subscriptions(self, count: int, *, connections: int = 1) -> None:
        """Until ``connections`` sessions have opened and the open ones follow ``count`` tokens."""
        await self.wait_until(
            lambda: self.connections >= connections and len(self.subscribed_tokens()) >= count
        )

    async def wait_for_pings(self, count: int) -> None:
        await self.wait_until(lambda: self.pings >= count)

    def quote(self, token: str) -> ModelQuote:
        """What the next round sends for ``token``."""
        return self.model.quote(self.instrument(token), self.clock.now_ns(), self.rounds)

    def snap_quote_frame(self, token: str, quote: ModelQuote | None = None) -> bytes:
        """The SNAP_QUOTE frame the next round sends for ``token`` (with ``quote``, if given)."""
        instrument = self.instrument(token)
        return encode_snap_quote(
            token,
            EXCHANGE_TYPES[instrument.segment],
            sequence=self.rounds + 1,
            exchange_ms=self.clock.now_ns() // _NS_PER_MS,
            quote=quote or self.quote(token),
            tick=instrument.tick_size,
        )

    async def publish_round(self) -> int:
        """One SNAP_QUOTE frame per subscribed token to every session; how many were sent."""
        sent = 0
        for subscriber in list(self._subscribers):
            for token in list(subscriber.tokens):
                if token not in self._by_token:
                    continue
                quote = self.quote(token)
                if await _send(subscriber.ws, self.snap_quote_frame(token, quote)):
                    self.sent_touches[token].add((quote.bid, quote.ask))
                    sent += 1
        self.rounds += 1
        await self.desk.match_all()
        return sent

    def start_streaming(self, interval_seconds: float) -> None:
        """Publish a round every ``interval_seconds`` until ``stop_streaming``."""

        async def stream() -> None:
            while True:
                await self.publish_round()
                await asyncio.sleep(interval_seconds)

        self._streaming = asyncio.create_task(stream())

    async def stop_streaming(self) -> None:
        if self._streaming is not None:
            self._streaming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._streaming
            self._streaming = None

    async def send_raw(self, frame: bytes | str) -> None:
        """Send ``frame`` as is (binary or text) to every session: malformed frames, errors."""
        for subscriber in list(self._subscribers):
            await _send(subscriber.ws, frame)

    async def drop_connections(self, *, abruptly: bool = False) -> None:
        """End every session, and wait until the fake has let go of them: a WebSocket close
        (1001, going away) or, ``abruptly``, the TCP connection cut with no close frame."""
        dropped = list(self._subscribers)
        for subscriber in dropped:
            if abruptly and subscriber.request.transport is not None:
                subscriber.request.transport.abort()
            else:
                await subscriber.ws.close(code=1001, message=b"going away")
        await self.wait_until(lambda: not any(s in self._subscribers for s in dropped))

    def inject_position(self, token: str, net_quantity: int, average_price: float) -> None:
        """A position the account holds that no order of this fake made."""
        self.desk.positions[token] = FakePosition(
            self.instrument(token), net_quantity, average_price
        )

    def order_by_tag(self, tag: str) -> list[FakeOrder]:
        return [order for order in self.desk.orders.values() if order.tag == tag]

    async def wait_for_order_listeners(self, count: int) -> None:
        await self.wait_until(lambda: len(self._order_listeners) >= count)

    async def drop_order_listeners(self) -> None:
        for listener in list(self._order_listeners):
            await listener.close(code=1001, message=b"going away")

    def expire_sessions(self) -> None:
        """Every token issued so far stops working, as at Angel One's daily session end."""
        self._valid_jwts.clear()
        self._valid_refresh.clear()
        self._feed_tokens.clear()

    # -- REST -----------------------------------------------------------------------------------

    def _refused(self, code: str, message: str) -> web.Response:
        return web.json_response(
            {"status": False, "message": message, "errorcode": code, "data": None}
        )

    def _api_keys(self) -> tuple[str, str]:
        """The account's two SmartAPI apps: market data and trading."""
        return self.account.api_key, self.account.trading_api_key

    def _api_key_ok(self, request: web.Request) -> bool:
        return request.headers.get("X-PrivateKey") in self._api_keys()

    def _issue_tokens(self) -> dict[str, str]:
        self._issued += 1
        tokens = {
            "jwtToken": f"fake-jwt-{self._issued}",
            "refreshToken": f"fake-refresh-{self._issued}",
            "feedToken": f"fake-feed-{self._issued}",
        }
        self._valid_jwts.add(tokens["jwtToken"])
        self._valid_refresh.add(tokens["refreshToken"])
        self._feed_tokens.add(tokens["feedToken"])
        return tokens

    def _ok(self, data: object) -> web.Response:
        return web.json_response(
            {"status": True, "message": "SUCCESS", "errorcode": "", "data": data}
        )

    async def _login(self, request: web.Request) -> web.Response:
        self.requests.append(f"POST {request.path}")
        if not self._api_key_ok(request):
            return self._refused("AG8004", "Invalid API Key")
        body = json.loads(await request.read())
        totp = pyotp.TOTP(self.account.totp_secret)
        now_s = self.clock.now_ns() // 1_000_000_000
        if body.get("clientcode") != self.account.client_code or body.get("password") != (
            self.account.pin
        ):
            return self._refused("AB1050", "Invalid clientcode or password")
        if not totp.verify(str(body.get("totp")), for_time=now_s, valid_window=1):
            return self._refused("AB1050", "Invalid totp")
        self.logins += 1
        return self._ok(self._issue_tokens())

    async def _refresh(self, request: web.Request) -> web.Response:
        self.requests.append(f"POST {request.path}")
        body = json.loads(await request.read())
        if not self._api_key_ok(request) or body.get("refreshToken") not in self._valid_refresh:
            return self._refused("AB8050", "Invalid Refresh Token")
        self.refreshes += 1
        return self._ok(self._issue_tokens())

    async def _profile(self, request: web.Request) -> web.Response:
        self.requests.append(f"GET {request.path}")
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not self._api_key_ok(request) or bearer not in self._valid_jwts:
            return self._refused("AG8001", "Invalid Token")
        return self._ok(
            {
                "clientcode": self.account.client_code,
                "name": "FAKE TRADER",
                "email": "",
                "mobileno": "",
                "exchanges": ["nse_cm", "nse_fo"],
                "products": ["MARGIN", "MIS", "NRML", "CNC"],
                "lastlogintime": "",
                "brokerid": "B2C",
            }
        )

    async def _master(self, request: web.Request) -> web.Response:
        self.requests.append(f"GET {request.path}")
        return web.json_response(scrip_master_rows(self.instruments))

    # -- orders ---------------------------------------------------------------------------------

    def _secure_refusal(self, request: web.Request) -> web.Response | None:
        """Why a logged-in call is refused (as SmartAPI answers), or ``None``."""
        self.requests.append(f"{request.method} {request.path}")
        if self.down:
            return web.Response(status=503, text="<html>503 Service Unavailable</html>")
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not self._api_key_ok(request):
            return self._refused("AG8004", "Invalid API Key")
        if bearer not in self._valid_jwts:
            return self._refused("AG8001", "Invalid Token")
        return None

    async def _order_call(
        self, request: web.Request, act: Callable[[dict[str, object]], Awaitable[FakeOrder]]
    ) -> web.Response:
        refusal = self._secure_refusal(request)
        if refusal is not None:
            return refusal
        try:
            order = await act(json.loads(await request.read()))
        except DeskRefusal as refused:
            return self._refused(refused.code, refused.message)
        except ValueError:
            return self._refused("AB2000", "Error not specified")
        return self._ok(
            {"script": order.instrument.symbol, "orderid": order.orderid,
             "uniqueorderid": order.uniqueorderid}
        )  # fmt: skip

    async def _place(self, request: web.Request) -> web.Response:
        if self.lose_next_placement:
            self.lose_next_placement = False
            return web.Response(status=503, text="<html>503 Service Unavailable</html>")

        async def place(body: dict[str, object]) -> FakeOrder:
            order = await self.desk.place(body, request.headers.get("X-PrivateKey", ""))
            if self.time_out_next_placement:
                self.time_out_next_placement = False
                await self._released.wait()
            return order

        return await self._order_call(request, place)

    async def _modify(self, request: web.Request) -> web.Response:
        return await self._order_call(request, self.desk.modify)

    async def _cancel(self, request: web.Request) -> web.Response:
        return await self._order_call(
            request, lambda body: self.desk.cancel(str(body.get("orderid")))
        )

    async def _book(self, request: web.Request, rows: Callable[[], list[Any]]) -> web.Response:
        refusal = self._secure_refusal(request)
        if refusal is not None:
            return refusal
        return self._ok(rows() or None)  # SmartAPI sends null, not [], for an empty book

    async def _order_book(self, request: web.Request) -> web.Response:
        return await self._book(request, lambda: [o.row() for o in self.desk.orders.values()])

    async def _trade_book(self, request: web.Request) -> web.Response:
        return await self._book(request, lambda: self.desk.trades)

    async def _positions(self, request: web.Request) -> web.Response:
        return await self._book(request, self.desk.position_rows)

    async def _rms(self, request: web.Request) -> web.Response:
        refusal = self._secure_refusal(request)
        return refusal or self._ok(self.desk.rms())

    async def _order_details(self, request: web.Request) -> web.Response:
        refusal = self._secure_refusal(request)
        if refusal is not None:
            return refusal
        unique = request.match_info["unique"]
        for order in self.desk.orders.values():
            if order.uniqueorderid == unique:
                return self._ok(order.row())
        return self._refused("AB1013", "Order not found")

    async def _order_updates(self, request: web.Request) -> web.StreamResponse:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if (
            self.down
            or bearer not in self._valid_jwts
            or request.headers.get("x-api-key")
            not in (self.account.api_key, self.account.trading_api_key)
        ):
            return web.Response(status=401, text="Unauthorized")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        greeting = {
            "user-id": self.account.client_code, "status-code": "200", "order-status": "AB00",
            "error-message": "", "orderData": {"orderid": "", "quantity": "", "price": ""},
        }  # fmt: skip
        await _send(ws, json.dumps(greeting))
        self._order_listeners.append(ws)
        await self._notify()
        try:
            async for _message in ws:
                pass  # the client sends nothing but heartbeats, which aiohttp answers
        finally:
            self._order_listeners.remove(ws)
            await self._notify()
        return ws

    async def _publish_order_status(self, message: dict[str, object]) -> None:
        await self.publish_order_status_text(json.dumps(message))

    async def publish_order_status_text(self, text: str) -> None:
        """Send ``text`` to every order-status socket: the desk's messages, or a broken one."""
        for listener in list(self._order_listeners):
            await _send(listener, text)

    # -- SmartStream ----------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        headers = request.headers
        authorised = (
            headers.get("Authorization", "").removeprefix("Bearer ") in self._valid_jwts
            and headers.get("x-api-key") == self.account.api_key
            and headers.get("x-client-code") == self.account.client_code
            and headers.get("x-feed-token") in self._feed_tokens
        )
        if not authorised:
            return web.Response(status=401, text="Unauthorized")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        subscriber = _Subscriber(ws, request)
        self._subscribers.append(subscriber)
        await self._notify(connected=True)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._on_text(subscriber, message.data)
        finally:
            self._subscribers.remove(subscriber)
            await self._notify()
        return ws

    async def _notify(self, *, connected: bool = False, pinged: bool = False) -> None:
        async with self._changed:
            self.connections += connected
            self.pings += pinged
            self._changed.notify_all()

    async def _on_text(self, subscriber: _Subscriber, text: str) -> None:
        self.requests.append(text)
        if text == "ping":
            await _send(subscriber.ws, "pong")
            await self._notify(pinged=True)
            return
        try:
            request = json.loads(text)
            action = int(request["action"])
            mode = int(request["params"]["mode"])
            token_list = [
                (int(entry["exchangeType"]), str(token))
                for entry in request["params"]["tokenList"]
                for token in entry["tokens"]
            ]
        except (ValueError, KeyError, TypeError):
            await _send(
                subscriber.ws, _error(request_id(text), "E1001", "Invalid Request Payload.")
            )
            return
        if mode != SNAP_QUOTE_MODE:
            await _send(subscriber.ws, _error(request_id(text), "E1001", "Mode not served here."))
            return
        if action == 1:
            new = {token: exchange for exchange, token in token_list}
            if len(subscriber.tokens | new) > MAX_TOKENS_PER_SESSION:
                await _send(
                    subscriber.ws,
                    _error(
                        request_id(text), "E1002", "Invalid Request. Subscription Limit Exceeded"
                    ),
                )
                return
            subscriber.tokens |= new
        else:
            for _exchange, token in token_list:
                subscriber.tokens.pop(token, None)
        await self._notify()


def request_id(text: str) -> str:
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        return str(json.loads(text).get("correlationID", ""))
    return ""


def _error(correlation_id: str, code: str, message: str) -> str:
    return json.dumps({"correlationID": correlation_id, "errorCode": code, "errorMessage": message})


async def _send(ws: web.WebSocketResponse, frame: bytes | str) -> bool:
    if ws.closed:
        return False
    try:
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
    except ConnectionError:
        return False
    return True


# -- the instrument master -----------------------------------------------------------------------


def _master_instruments(
    today: date, spots: dict[str, float], facts: MarketFacts
) -> list[Instrument]:
    instruments: list[Instrument] = []
    next_token = _FIRST_DERIVATIVE_TOKEN
    for underlying, (token, name) in INDEX_TOKENS.items():
        instruments.append(Instrument(token, "NSE", name, underlying, "index", None, None, 1, 0.0))
        spec = facts.contract(underlying, today)
        future_expiry = facts.monthly_expiries(underlying, today, 1)[0]
        instruments.append(
            Instrument(
                str(next_token),
                "NFO",
                f"{underlying}{future_expiry:%d%b%y}FUT".upper(),
                underlying,
                "future",
                future_expiry,
                None,
                spec.lot_size,
                spec.tick_size,
            )
        )
        next_token += 1
        atm = round(spots[underlying] / spec.strike_step) * spec.strike_step
        for expiry in facts.expiries(underlying, today, 2):
            for offset in range(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1):
                strike = atm + offset * spec.strike_step
                for suffix, kind in (("CE", "call"), ("PE", "put")):
                    instruments.append(
                        Instrument(
                            str(next_token),
                            "NFO",
                            f"{underlying}{expiry:%d%b%y}{strike:.0f}{suffix}".upper(),
                            underlying,
                            kind,  # type: ignore[arg-type]
                            expiry,
                            strike,
                            spec.lot_size,
                            spec.tick_size,
                        )
                    )
                    next_token += 1
    return instruments


_IGNORED_ROWS = [
    # An equity and a stock option: an index feed's master must skip them.
    {
        "token": "2885",
        "symbol": "RELIANCE-EQ",
        "name": "RELIANCE",
        "expiry": "",
        "strike": "-1.000000",
        "lotsize": "1",
        "instrumenttype": "",
        "exch_seg": "NSE",
        "tick_size": "10.000000",
    },
    {
        "token": "39999",
        "symbol": "RELIANCE30DEC261500CE",
        "name": "RELIANCE",
        "expiry": "30DEC2026",
        "strike": "150000.000000",
        "lotsize": "500",
        "instrumenttype": "OPTSTK",
        "exch_seg": "NFO",
        "tick_size": "5.000000",
    },
]

_INSTRUMENT_TYPES = {"index": "AMXIDX", "future": "FUTIDX", "call": "OPTIDX", "put": "OPTIDX"}


def scrip_master_rows(instruments: list[Instrument]) -> list[dict[str, str]]:
    """``instruments`` as OpenAPIScripMaster rows: strings, prices in paise, ``02DEC2025``."""
    rows = [
        {
            "token": instrument.token,
            "symbol": instrument.symbol,
            "name": instrument.underlying,
            "expiry": f"{instrument.expiry:%d%b%Y}".upper() if instrument.expiry else "",
            "strike": f"{(instrument.strike or -0.01) * _PAISE:.6f}",
            "lotsize": str(instrument.lot_size),
            "instrumenttype": _INSTRUMENT_TYPES[instrument.kind],
            "exch_seg": instrument.segment,
            "tick_size": f"{instrument.tick_size * _PAISE:.6f}",
        }
        for instrument in instruments
    ]
    return rows + _IGNORED_ROWS


# -- SmartStream frames --------------------------------------------------------------------------

_SNAP_QUOTE_LAYOUT = struct.Struct("<BB25sqqqqqqddqqqqqqq")  # up to byte 147
_DEPTH_LEVEL = struct.Struct("<hqqh")
_TAIL = struct.Struct("<qqqq")  # circuits and 52-week high and low at byte 347
_BUY, _SELL = 1, 0


def _paise(rupees: float | None) -> int:
    return round((rupees or 0.0) * _PAISE)


def encode_snap_quote(
    token: str,
    exchange_type: int,
    *,
    sequence: int,
    exchange_ms: int,
    quote: ModelQuote,
    tick: float,
    circuits: tuple[float, float] | None = None,
) -> bytes:
    """A 379-byte SNAP_QUOTE frame as SmartStream lays it out (see optbus_brokers.angel_one),
    with the fake's price band or the ``circuits`` (lower, upper) given."""
    last = _paise(quote.last)
    head = _SNAP_QUOTE_LAYOUT.pack(
        SNAP_QUOTE_MODE,
        exchange_type,
        token.encode("ascii"),
        sequence,
        exchange_ms,
        last,
        0,  # last traded quantity
        last,  # average traded price
        quote.volume,
        float(quote.bid_size * 5),  # total buy quantity
        float(quote.ask_size * 5),  # total sell quantity
        last,  # open
        last,  # high
        last,  # low
        last,  # previous close
        exchange_ms,  # last traded time
        quote.open_interest,
        0,  # open interest change %
    )
    levels = b"".join(
        _DEPTH_LEVEL.pack(flag, size, _paise(price + sign * level * tick), 1 + level)
        if price is not None
        else _DEPTH_LEVEL.pack(flag, 0, 0, 0)
        for flag, price, size, sign in (
            (_BUY, quote.bid, quote.bid_size, -1),
            (_SELL, quote.ask, quote.ask_size, +1),
        )
        for level in range(5)
    )
    has_book = quote.ask is not None
    band = circuits if circuits is not None else circuit_limits(quote, tick)
    lower, upper = (_paise(limit) for limit in band)
    if not has_book and circuits is None:
        lower, upper = 0, 0
    return head + levels + _TAIL.pack(upper, lower, last * 2, last // 2)
