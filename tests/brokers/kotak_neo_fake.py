"""A local Kotak Neo: the Trade API login, the scrip master and the SFeed market feed.

It speaks Kotak's public protocol as the official SDK (``kotakneoapi`` 3.0.9) does, which
``test_kotak_neo_fake_is_honest.py`` proves with the SDK's own client and parser:

- ``POST /login/1.0/tradeApiLogin`` (consumer key, mobile number, UCC, TOTP) answers a view
  token and session id; ``POST /login/1.0/tradeApiValidate`` (MPIN) the trade session, with the
  account's ``baseUrl`` and ``feedUrl`` (both this server);
- ``GET /script-details/1.0/masterscrip/file-paths`` lists the day's CSV files, and
  ``/scrip-master/<date>/transformed/nse_fo.csv`` is one: NIFTY and BANKNIFTY near futures and
  options of their next two expiries, ±40 strikes around the spot, dated from ``today``;
- the order API (``kotak_neo_orders_fake.py``, reached as ``fake.orders``): placing,
  modifying and cancelling limit orders, the order and trade books, positions and limits;
- ``/apifeed`` is SFeed: a JSON auth frame, JSON subscribe frames, binary ``native_batch``
  frames of touch-line quotes and index values, WebSocket pings as its heartbeat.

The test drives it: ``broadcast()`` sends one frame of quotes for everything subscribed, priced
by the brokers' shared deterministic ``QuoteModel`` at the injected clock's time and the spot
the test sets, ``stream()`` does that at an interval, ``drop_connections()`` cuts every feed
connection and ``send_to_feeds()`` sends anything, malformed frames included
(``malformed_frames()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time

import pyotp
from aiohttp import WSMsgType, web

from optbus.clock import Clock
from optbus.market import MarketFacts, load_market_facts
from optbus_brokers.feed import Instrument, InstrumentKind
from optbus_brokers.kotak_neo.frames import (
    DEPTH_ROW,
    HEADER,
    INDEX,
    INDEX_MESSAGE,
    MARKET_PICTURE,
    MARKET_PICTURE_MESSAGE,
    TOUCH_LINE_LEVEL,
)
from tests.brokers.kotak_neo_orders_fake import KotakNeoOrderBook
from tests.brokers.quote_model import ModelQuote, QuoteModel

NSE_CM, NSE_FO = 1, 2
PAISE = 100
NS_PER_SECOND = 1_000_000_000
STRIKES_EACH_SIDE = 40
INDEX_NAMES = {"NIFTY": "Nifty 50", "BANKNIFTY": "Nifty Bank"}
INDEX_TOKENS = {"NIFTY": 26000, "BANKNIFTY": 26009}
# The live nse_fo.csv header (79 columns), trailing spaces and the strike's ';' included.
FO_HEADER = [
    "pSymbol",
    "pGroup",
    "pExchSeg",
    "pInstType",
    "pSymbolName",
    "pTrdSymbol",
    "pOptionType",
    "pScripRefKey",
    "pISIN",
    "pAssetCode",
    "pSubGroup",
    "pCombinedSymbol",
    "pDesc",
    "pAmcCode",
    "pContractId",
    "dTickSize ",
    "lLotSize",
    "lExpiryDate ",
    "lMultiplier ",
    "lPrecision",
    "dStrikePrice;",
    "pExchange",
    "pInstName",
    "pExpiryDate",
    "pIssueDate",
    "pMaturityDate",
    "pListingDate",
    "pNoDelStartDate",
    "pNoDelEndDate",
    "pBookClsStartDate",
    "pBookClsEndDate",
    "pRecordDate",
    "pCreditRating",
    "pReAdminDate",
    "pExpulsionDate",
    "pLocalUpdateTime",
    "pDeliveryUnits",
    "pPriceUnits",
    "pLastTradingDate",
    "pTenderPeridEndDate",
    "pTenderPeridStartDate",
    "pSellVarMargin",
    "pBuyVarMargin",
    "pInstrumentInfo",
    "pRemarksText",
    "pSegment",
    "pNav",
    "pNavDate",
    "pMfAmt",
    "pSipSecurity",
    "pFaceValue",
    "pTrdUnits",
    "pExerciseStartDate",
    "pExerciseEndDate",
    "pElmMargin",
    "pVarMargin",
    "pTotProposedLimitValue",
    "pScripBasePrice",
    "pSettlementType",
    "pCurrectionTime",
    "iPermittedToTrade",
    "iBoardLotQty ",
    "iMaxOrderSize ",
    "iLotSize",
    "dOpenInterest ",
    "dHighPriceRange ",
    "dLowPriceRange ",
    "dPriceNum   ",
    "dGenDen",
    "dGenNum",
    "dPriceQuatation ",
    "dIssuerate ",
    "dPriceDen",
    "dWarningQty ",
    "dIssueCapital ",
    "dExposureMargin ",
    "dMinRedemptionQty ",
    "lFreezeQty",
    "CASEligible",
]
_EPOCH_1980 = datetime(1980, 1, 1)
MALFORMED_KINDS = (
    "truncated packet",
    "truncated header",
    "length shorter than header",
    "truncated market picture",
    "unknown packet kind",
    "text frame not JSON",
)
_WEEKLY_MONTH_CODES = "123456789OND"


@dataclass(frozen=True, slots=True)
class Credentials:
    consumer_key: str = "fake-consumer-key-7f3a"
    mobile_number: str = "+919800000001"
    ucc: str = "FAKE01"
    mpin: str = "482913"
    totp_secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class _FeedClient:
    socket: web.WebSocketResponse
    request: web.Request
    scrips: set[str] = field(default_factory=set)
    indices: set[str] = field(default_factory=set)
    pongs: int = 0
    # The streaming task and the control handler both write: one frame at a time.
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: bytes | str) -> None:
        async with self.writing:
            if isinstance(frame, bytes):
                await self.socket.send_bytes(frame)
            else:
                await self.socket.send_str(frame)


class KotakNeoFake:
    """The fake server; ``async with KotakNeoFake(today=...) as fake`` serves on a free port."""

    def __init__(
        self,
        today: date,
        clock: Clock,
        *,
        credentials: Credentials | None = None,
        model: QuoteModel | None = None,
        facts: MarketFacts | None = None,
    ) -> None:
        self.credentials = credentials or Credentials()
        self.clock = clock
        self.model = model or QuoteModel()
        self.facts = facts or load_market_facts()
        self.today = today
        self.contracts = kotak_fo_master(today, self.model.spots, self.facts)
        self._by_token = {c.token: c for c in self.contracts}
        by_symbol = {c.symbol: c for c in self.contracts}
        self._indices = {
            name: Instrument(name, "nse_cm", name, underlying, "index", None, None, 1, 0.05)
            for underlying, name in INDEX_NAMES.items()
        }
        self.logins: list[str] = []
        self.feed_auth_frames: list[dict[str, object]] = []
        self.feed_events: list[dict[str, object]] = []
        self._clients: list[_FeedClient] = []
        self._views: dict[str, str] = {}
        self._sessions: set[str] = set()
        self._session_numbers = itertools.count(1)
        self._broadcasts = 0
        self._refusing_logins = False
        self._subscriptions_changed = asyncio.Event()
        self.pong_received = asyncio.Event()
        self._streaming: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.orders = KotakNeoOrderBook(
            ucc=self.credentials.ucc,
            facts=self.facts,
            today_contract=by_symbol.get,
            quote=self.quote,
            circuit_limits=self.circuit_limits,
            spot=lambda underlying: self.model.spots[underlying],
            seconds=self._seconds,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/apifeed"

    @property
    def order_feed_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/realtime"

    async def __aenter__(self) -> KotakNeoFake:
        app = web.Application()
        app.router.add_post("/login/1.0/tradeApiLogin", self._totp_login)
        app.router.add_post("/login/1.0/tradeApiValidate", self._totp_validate)
        app.router.add_get("/5config/config", self._config)
        app.router.add_get("/script-details/1.0/masterscrip/file-paths", self._file_paths)
        app.router.add_get("/scrip-master/{day}/transformed/nse_fo.csv", self._fo_csv)
        app.router.add_get("/apifeed", self._feed)
        app.add_routes(self.orders.routes(self._trade_session_of))
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self.orders.release()
        self.orders.drop_order_feeds()
        await self.stop_streaming()
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what the test drives -------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The ``OPTBUS_KOTAK_NEO_*`` variables that point the adapters at this fake."""
        c = self.credentials
        return {
            "OPTBUS_KOTAK_NEO_LOGIN_URL": self.url,
            "OPTBUS_KOTAK_NEO_CONSUMER_KEY": c.consumer_key,
            "OPTBUS_KOTAK_NEO_MOBILE_NUMBER": c.mobile_number,
            "OPTBUS_KOTAK_NEO_UCC": c.ucc,
            "OPTBUS_KOTAK_NEO_MPIN": c.mpin,
            "OPTBUS_KOTAK_NEO_TOTP_SECRET": c.totp_secret,
        }

    def totp_now(self) -> str:
        return pyotp.TOTP(self.credentials.totp_secret).at(self._seconds())

    def set_spot(self, underlying: str, spot: float) -> None:
        self.model.set_spot(underlying, spot)

    def contract(self, token: str) -> Instrument:
        return self._by_token[token]

    def _seconds(self) -> int:
        return self.clock.now_ns() // NS_PER_SECOND

    @property
    def feed_connections(self) -> int:
        return len(self._clients)

    @property
    def pongs(self) -> int:
        return sum(client.pongs for client in self._clients)

    def subscribed(self) -> set[str]:
        """The tokens (and index names) the feed clients are subscribed to."""
        return set().union(*(client.scrips | client.indices for client in self._clients))

    async def wait_for_subscriptions(self, count: int) -> None:
        while len(self.subscribed()) < count:
            self._subscriptions_changed.clear()
            await self._subscriptions_changed.wait()

    async def broadcast(self) -> None:
        """One binary frame to each feed client: a quote of everything it subscribed."""
        self._broadcasts += 1
        for client in list(self._clients):
            packets = [self.index_packet(name) for name in sorted(client.indices)]
            packets += [self.touch_line_packet(token) for token in sorted(client.scrips)]
            if packets:
                with contextlib.suppress(ConnectionError):
                    await client.send(b"".join(packets))

    def stream(self, interval_seconds: float) -> None:
        """Broadcast every ``interval_seconds`` until ``stop_streaming``."""

        async def run() -> None:
            while True:
                await self.broadcast()
                await asyncio.sleep(interval_seconds)

        self._streaming = asyncio.create_task(run())

    async def stop_streaming(self) -> None:
        if self._streaming is not None:
            self._streaming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._streaming
            self._streaming = None

    async def send_to_feeds(self, frame: bytes | str) -> None:
        for client in list(self._clients):
            await client.send(frame)

    def expire_sessions(self) -> None:
        """End every trade session, as the day's end does: the feed refuses them from now."""
        self._sessions.clear()

    def refuse_logins(self) -> None:
        """Refuse every login from now (a revoked consumer key), and end the sessions."""
        self._refusing_logins = True
        self.expire_sessions()

    async def ping_feeds(self) -> None:
        for client in list(self._clients):
            await client.socket.ping(b"heartbeat")

    async def drop_connections(self) -> None:
        """Cut every feed connection without a close frame, as a network failure does."""
        for client in list(self._clients):
            transport = client.request.transport
            if transport is not None:
                transport.abort()
        self._clients.clear()

    # -- the quote model and its frames ---------------------------------------------------

    def quote(self, instrument: Instrument) -> ModelQuote:
        """The shared model's quote of ``instrument`` now, in the current broadcast round."""
        # At the whole second the frame dates it with, so a test can price what it stored.
        now_ns = self._seconds() * NS_PER_SECOND
        return self.model.quote(instrument, now_ns, max(self._broadcasts - 1, 0))

    @staticmethod
    def circuit_limits(quote: ModelQuote) -> tuple[float, float]:
        """The fake's price band of an option: 0.05 up to three times the price (20 at least)."""
        return max(3 * quote.last, 20.0), 0.05

    def touch_line_packet(self, token: str) -> bytes:
        return self.touch_line_packet_of(self._by_token[token])

    def touch_line_packet_of(
        self, instrument: Instrument, quote: ModelQuote | None = None,
        circuits: tuple[float, float] | None = None,
    ) -> bytes:  # fmt: skip
        """A touch-line packet of ``instrument`` (listed or not) quoting the model, or ``quote``
        (an empty side as 0), in the fake's price band or the ``circuits`` (lower, upper)."""
        q = quote or self.quote(instrument)
        band = self.circuit_limits(q) if circuits is None else (circuits[1], circuits[0])
        last, bid, ask, upper, lower = (
            round(p * PAISE) for p in (q.last, q.bid or 0.0, q.ask or 0.0, *band)
        )
        now, lot = self._seconds(), instrument.lot_size
        body = MARKET_PICTURE.pack(
            int(instrument.token), q.bid_size * 3, q.ask_size * 3, q.volume, now, now,
            last, last, last, last, last, lot, last, 0, 1, 1, 0, 0,
            q.open_interest, float(q.volume * last), 0, upper, lower, 0, 0, lot, 2, 1,
        )  # fmt: skip
        rows = DEPTH_ROW.pack(q.bid_size, bid, 3) + DEPTH_ROW.pack(q.ask_size, ask, 4)
        length = HEADER.size + len(body) + len(rows)
        header = HEADER.pack(length, MARKET_PICTURE_MESSAGE, NSE_FO, TOUCH_LINE_LEVEL, 0, 0, 0)
        return header + body + rows

    def index_packet(self, name: str) -> bytes:
        index = self._indices[name]
        value = round(self.quote(index).last * PAISE)
        body = INDEX.pack(
            INDEX_TOKENS[index.underlying], value, value, value, value, value, self._seconds(),
            value, value, 0, 0.0, 2, 1, name.upper().encode(),
        )  # fmt: skip
        return HEADER.pack(HEADER.size + len(body), INDEX_MESSAGE, NSE_CM, 0, 0, 0, 0) + body

    def malformed_frames(self) -> dict[str, bytes | str]:
        """One frame of each of ``MALFORMED_KINDS``, named by what is wrong with it."""
        good = self.touch_line_packet(self.contracts[-1].token)
        unknown = HEADER.pack(HEADER.size, 9999, NSE_FO, 0, 0, 0, 0)
        cut_body = HEADER.pack(HEADER.size + 40, MARKET_PICTURE_MESSAGE, NSE_FO, 4, 0, 0, 0)
        return {
            "truncated packet": good[: len(good) - 10],
            "truncated header": good[:5],
            "length shorter than header": HEADER.pack(3, 7208, NSE_FO, 4, 0, 0, 0),
            "truncated market picture": cut_body + bytes(40),
            "unknown packet kind": unknown,
            "text frame not JSON": "<html>502 Bad Gateway</html>",
        }

    # -- the protocol ---------------------------------------------------------------------

    async def _totp_login(self, request: web.Request) -> web.Response:
        body = await request.json()
        c = self.credentials
        self.logins.append(str(body.get("ucc")))
        totp_ok = pyotp.TOTP(c.totp_secret).verify(
            str(body.get("totp")), for_time=self._seconds(), valid_window=1
        )
        if request.headers.get("Authorization") != c.consumer_key or self._refusing_logins:
            return _error(401, "Invalid consumer key")
        if body.get("mobileNumber") != c.mobile_number or body.get("ucc") != c.ucc or not totp_ok:
            return _error(400, "Invalid TOTP or credentials")
        number = next(self._session_numbers)
        view, sid = f"view-token-{number}", f"view-sid-{number}"
        self._views[sid] = view
        data = {"token": view, "sid": sid, "ucc": c.ucc, "kType": "View", "status": "success"}
        return web.json_response({"data": data})

    async def _totp_validate(self, request: web.Request) -> web.Response:
        body = await request.json()
        headers = request.headers
        view_sid = headers.get("sid", "")
        if headers.get("Authorization") != self.credentials.consumer_key:
            return _error(401, "Invalid consumer key")
        if self._views.get(view_sid) != headers.get("Auth"):
            return _error(401, "Invalid session")
        if body.get("mpin") != self.credentials.mpin:
            return _error(400, "Invalid MPIN")
        sid = view_sid.replace("view-", "trade-")
        self._sessions.add(sid)
        data = {
            "token": sid.replace("sid", "token"),
            "sid": sid,
            "rid": "rid-1",
            "ucc": self.credentials.ucc,
            "dataCenter": "E21",
            "baseUrl": self.url,
            "feedUrl": self.ws_url,
            "rtUrl": self.order_feed_url,
            "kType": "Trade",
            "status": "success",
        }
        return web.json_response({"data": data})

    def _trade_session_of(self, sid: str, token: str) -> bool:
        """Whether ``sid`` and ``token`` are a live trade session's."""
        return sid in self._sessions and token == sid.replace("sid", "token")

    async def _config(self, _: web.Request) -> web.Response:
        # The SDK's dynamic configuration service: SFeed for data centre E21 is this server.
        configs = {"E21_broadcast_source": "ks", "E21_ks_broadcast_endpoint": self.ws_url}
        return web.json_response({"data": {"configs": configs}})

    async def _file_paths(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != self.credentials.consumer_key:
            return _error(401, "Invalid consumer key")
        folder = f"{self.url}/scrip-master/{self.today.isoformat()}/transformed"
        paths = [f"{folder}/nse_fo.csv"]
        return web.json_response({"data": {"filesPaths": paths, "baseFolder": folder}})

    async def _fo_csv(self, _: web.Request) -> web.Response:
        return web.Response(body=fo_master_csv(self.contracts, self.facts), content_type="text/csv")

    async def _feed(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=False, max_msg_size=0, compress=False)
        await socket.prepare(request)
        auth = await socket.receive()
        frame = json.loads(auth.data) if auth.type == WSMsgType.TEXT else {}
        self.feed_auth_frames.append(frame)
        if frame.get("user") != self.credentials.ucc or frame.get("auth") not in self._sessions:
            await socket.close(code=1008, message=b"invalid session")
            return socket
        exchanges = {
            "nse_cm": {"value": NSE_CM, "divider": PAISE},
            "nse_fo": {"value": NSE_FO, "divider": PAISE},
        }
        await socket.send_str(json.dumps({"message_code": 1119, "exchanges": exchanges}))
        client = _FeedClient(socket, request)
        self._clients.append(client)
        try:
            async for message in _messages(socket):
                if message.type == WSMsgType.PING:
                    await socket.pong(message.data)
                elif message.type == WSMsgType.PONG:
                    client.pongs += 1
                    self.pong_received.set()
                elif message.type == WSMsgType.TEXT:
                    await self._control(client, json.loads(message.data))
        finally:
            if client in self._clients:
                self._clients.remove(client)
        return socket

    async def _control(self, client: _FeedClient, frame: dict[str, object]) -> None:
        self.feed_events.append(frame)
        event = str(frame.get("event"))
        keys = [k for k in str(frame.get("inputtoken", "")).split(",") if "|" in k]
        tokens = {k.split("|", 1)[1] for k in keys}
        target = client.indices if event.endswith("Indices") else client.scrips
        if event.startswith("subscribe"):
            known = {t for t in tokens if t in self._by_token or t in self._indices}
            target.update(known)
            if frame.get("ack_symbol"):
                symbols = {k: self._symbol(k.split("|", 1)[1]) for k in keys}
                ack = {"message_code": 1109, "trading_symbols": symbols}
                await client.send(json.dumps(ack))
        elif event.startswith("unsubscribe"):
            target.difference_update(tokens)
        self._subscriptions_changed.set()

    def _symbol(self, token: str) -> str:
        known = self._by_token.get(token) or self._indices.get(token)
        return known.symbol if known is not None else token


async def _messages(socket: web.WebSocketResponse) -> AsyncIterator[web.WSMessage]:
    while True:
        message = await socket.receive()
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return
        if message.type == WSMsgType.ERROR:
            return
        yield message


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": [{"code": str(status), "message": message}]}, status=status)


def kotak_fo_master(today: date, spots: dict[str, float], facts: MarketFacts) -> list[Instrument]:
    """Near future and two expiries of ±40 strikes per underlying; tokens numbered from 40001."""
    tokens = (str(number) for number in itertools.count(40_001))
    master: list[Instrument] = []
    for underlying, spot in spots.items():
        spec = facts.contract(underlying, today)
        lot, tick = spec.lot_size, spec.tick_size
        month_end = facts.monthly_expiries(underlying, today, 1)[0]
        future = f"{underlying}{month_end:%y%b}FUT".upper()
        master.append(
            Instrument(
                next(tokens), "nse_fo", future, underlying, "future", month_end, None, lot, tick
            )
        )
        atm = round(spot / spec.strike_step) * spec.strike_step
        for expiry in facts.expiries(underlying, today, 2):
            code = _WEEKLY_MONTH_CODES[expiry.month - 1]
            for step in range(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1):
                strike = atm + step * spec.strike_step
                sides: tuple[tuple[InstrumentKind, str], ...] = (("call", "CE"), ("put", "PE"))
                for kind, suffix in sides:
                    symbol = f"{underlying}{expiry:%y}{code}{expiry:%d}{strike:g}{suffix}"
                    master.append(
                        Instrument(
                            next(tokens),
                            "nse_fo",
                            symbol,
                            underlying,
                            kind,
                            expiry,
                            strike,
                            lot,
                            tick,
                        )
                    )
    return master


def expiry_1980_seconds(expiry: date) -> int:
    """NSE's contract-file expiry: 14:30 on the day, in seconds since 1980-01-01."""
    return int((datetime.combine(expiry, clock_time(14, 30)) - _EPOCH_1980).total_seconds())


def fo_master_csv(contracts: list[Instrument], facts: MarketFacts) -> bytes:
    """The ``nse_fo`` scrip master of ``contracts`` in the live file's layout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FO_HEADER)
    for c in contracts:
        assert c.expiry is not None
        spec = facts.contract(c.underlying, c.expiry)
        option = {"call": "CE", "put": "PE", "future": "XX"}[c.kind]
        seconds = expiry_1980_seconds(c.expiry)
        strike = -1.0 if c.strike is None else c.strike * PAISE
        known = {
            "pSymbol": c.token,
            "pGroup": "XX",
            "pExchSeg": "nse_fo",
            "pInstType": "FUTIDX" if c.kind == "future" else "OPTIDX",
            "pSymbolName": c.underlying,
            "pTrdSymbol": c.symbol,
            "pOptionType": option,
            "pScripRefKey": f"{c.underlying}{c.expiry:%d%b%y}".upper(),
            "pAssetCode": INDEX_TOKENS[c.underlying],
            "dTickSize ": round(c.tick_size * PAISE),
            "lLotSize": c.lot_size,
            "lExpiryDate ": seconds,
            "lMultiplier ": -1,
            "lPrecision": 2,
            "dStrikePrice;": f"{strike:g}",
            "pExchange": "NSE",
            "pInstName": "FUTIDX" if c.kind == "future" else "OPTIDX",
            "pExpiryDate": seconds,
            "pSegment": "FO",
            "iPermittedToTrade": 1,
            "iLotSize": c.lot_size,
            "lFreezeQty": spec.freeze_quantity + 1,
            "CASEligible": "false",
        }
        writer.writerow([known.get(column, "") for column in FO_HEADER])
    return out.getvalue().encode()
