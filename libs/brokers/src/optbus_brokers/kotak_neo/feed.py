"""The Kotak Neo adapter: TOTP and MPIN login, the ``nse_fo`` scrip master, the SFeed stream.

It speaks Kotak's documented protocol itself rather than through the official SDK
(``kotakneoapi``): the SDK's REST client blocks (a synchronous httpx client), its import writes a
log file under the working directory and reconfigures structlog for the whole process, its
feed client reconnects on its own (the service owns reconnecting and must see the gap), holds
back ticks while it waits for a subscription's acknowledgement, and skips packets it cannot
decode without a word. ``tests/brokers`` proves our fake against the SDK's own client and parser.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Final

import httpx
import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.frames import CloseCode

from optbus.clock import Clock
from optbus_brokers.feed import (
    DroppedFrame,
    FeedDisconnected,
    FeedItem,
    FeedLoginFailed,
    Instrument,
)
from optbus_brokers.kotak_neo.frames import decode_frame
from optbus_brokers.kotak_neo.scrip_master import (
    FO_SEGMENT,
    index_instruments,
    parse_fo_master,
)
from optbus_brokers.kotak_neo.session import TradeSession, open_trade_session
from optbus_brokers.kotak_neo.settings import API_URL, WS_URL, KotakNeoSettings

NAME: Final = "kotak-neo"
SCRIP_MASTER_PATH: Final = "/script-details/1.0/masterscrip/file-paths"
AUTH_RESPONSE_CODES: Final = frozenset({1117, 1119})
_NS_PER_MS: Final = 1_000_000
_log = structlog.get_logger()


class KotakNeoFeed:
    """Kotak Neo's market data behind the ``BrokerFeed`` port."""

    def __init__(self, settings: KotakNeoSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._session: TradeSession | None = None

    @property
    def name(self) -> str:
        return NAME

    @property
    def max_subscriptions(self) -> int:
        return self._settings.max_subscriptions

    async def login(self) -> None:
        """TOTP login (a view session), then MPIN validation (the trade session)."""
        async with self._http() as http:
            self._session = await open_trade_session(self._settings, self._clock, http)

    async def load_instruments(self) -> list[Instrument]:
        """Index futures and options of the followed underlyings, and their spot indices."""
        settings = self._settings
        async with self._http() as http:
            master_url = settings.instruments_url or await self._listed_master_url(http)
            content = (await _get(http, master_url, {})).content
        master = parse_fo_master(content, settings.index_names)
        if master.skipped:
            _log.warning(
                "kotak_neo_scrip_master_rows_skipped",
                count=len(master.skipped),
                first=[f"line {row.line}: {row.reason}" for row in master.skipped[:5]],
            )
        indices = index_instruments(settings.index_names, settings.index_tick_size)
        return indices + master.instruments

    async def _listed_master_url(self, http: httpx.AsyncClient) -> str:
        """Where today's ``nse_fo`` master is, as the scrip-master listing says."""
        settings = self._settings
        root = settings.api_url or self._require_session().base_url or API_URL
        headers = {"Authorization": settings.consumer_key.get_secret_value()}
        listing = await _get(http, root.rstrip("/") + SCRIP_MASTER_PATH, headers)
        paths = _files_paths(listing)
        fo_paths = [p for p in paths if FO_SEGMENT in p.lower()]
        if not fo_paths:
            raise FeedDisconnected(f"no {FO_SEGMENT} file among {len(paths)} scrip masters")
        return fo_paths[0]

    async def connect(self) -> KotakNeoConnection:
        """Open SFeed and authenticate on it with the trade session."""
        settings = self._settings
        session = self._require_session()
        url = settings.ws_url or session.feed_url or WS_URL
        try:
            websocket = await connect(
                url,
                ping_interval=settings.ping_interval_seconds,
                ping_timeout=settings.ping_timeout_seconds,
                open_timeout=settings.auth_timeout_seconds,
                max_size=None,
            )
        except (OSError, TimeoutError, WebSocketException) as error:
            raise FeedDisconnected(f"SFeed unreachable: {type(error).__name__}") from error
        try:
            dividers = await self._authenticate(websocket, session)
        except BaseException:
            await websocket.close()
            raise
        return KotakNeoConnection(websocket, dividers)

    async def _authenticate(
        self, websocket: ClientConnection, session: TradeSession
    ) -> dict[int, int]:
        """The price dividers SFeed answers our authentication with.

        A refused session (an answer that is not an authentication response, or a close for
        policy violation) is ``FeedLoginFailed``, so the service logs in again: the day's
        session may have expired. A downgrade to ``native_fallback`` or a silent feed is an
        outage, ``FeedDisconnected``.
        """
        try:
            await websocket.send(json.dumps(self._auth_frame(session)))
            answer = await asyncio.wait_for(
                _first_text_frame(websocket), self._settings.auth_timeout_seconds
            )
        except ConnectionClosed as error:
            if error.rcvd is not None and error.rcvd.code == CloseCode.POLICY_VIOLATION:
                raise FeedLoginFailed("SFeed refused the session") from error
            raise FeedDisconnected(f"SFeed closed during authentication: {error}") from error
        except (TimeoutError, ValueError) as error:
            raise FeedDisconnected(f"SFeed authentication failed: {error!r}") from error
        code = answer.get("message_code")
        if code not in AUTH_RESPONSE_CODES:
            raise FeedLoginFailed(f"SFeed refused the session: message_code {code}")
        if answer.get("format") == "native_fallback":
            raise FeedDisconnected("SFeed offered only native_fallback")
        return _dividers(answer.get("exchanges"))

    def _auth_frame(self, session: TradeSession) -> dict[str, object]:
        # The fields and values the official SDK sends, with the account's own identity.
        return {
            "user": session.ucc,
            "auth": session.sid.get_secret_value(),
            "format": "native_batch",
            "source": "NEOTRADEAPI",
            "platform": "Web",
            "version": "1.2.3",
            "sdk_version": 2,
            "sdk_date": "2026-08-07T09:41:17.667Z",
            "conn_req_time": self._clock.now_ns() // _NS_PER_MS,
            "sessionValidation": False,
        }

    def _require_session(self) -> TradeSession:
        if self._session is None:
            raise FeedLoginFailed("not logged in: call login() first")
        return self._session

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._settings.http_timeout_seconds, follow_redirects=True)


class KotakNeoConnection:
    """One authenticated SFeed connection: touch-line subscriptions, decoded frames."""

    def __init__(self, websocket: ClientConnection, dividers: Mapping[int, int]) -> None:
        self._websocket = websocket
        self._dividers = dict(dividers)
        # SFeed streams an index under a number and its name; ticks carry the subscribed name.
        self._index_tokens: dict[str, str] = {}

    async def subscribe(self, instruments: Sequence[Instrument]) -> None:
        indices = [i for i in instruments if i.kind == "index"]
        self._index_tokens.update({i.token.lower(): i.token for i in indices})
        await self._send("subscribeIndices", indices)
        await self._send("subscribeScrips", [i for i in instruments if i.kind != "index"])

    async def unsubscribe(self, instruments: Sequence[Instrument]) -> None:
        await self._send("unsubscribeIndices", [i for i in instruments if i.kind == "index"])
        await self._send("unsubscribeScrips", [i for i in instruments if i.kind != "index"])

    async def items(self) -> AsyncIterator[FeedItem]:
        try:
            async for message in self._websocket:
                if isinstance(message, bytes):
                    for item in decode_frame(message, self._dividers, self._index_tokens):
                        yield item
                elif (dropped := control_frame(message)) is not None:
                    yield dropped
        except ConnectionClosed as error:
            raise FeedDisconnected(f"SFeed closed: {error}") from error
        raise FeedDisconnected("SFeed closed the connection")

    async def close(self) -> None:
        await self._websocket.close()

    async def _send(self, event: str, instruments: Sequence[Instrument]) -> None:
        if not instruments:
            return
        tokens = ",".join(f"{i.segment}|{i.token}" for i in instruments)
        try:
            await self._websocket.send(json.dumps({"event": event, "inputtoken": tokens}))
        except ConnectionClosed as error:
            raise FeedDisconnected(f"SFeed closed: {error}") from error


def control_frame(text: str) -> DroppedFrame | None:
    """A JSON text frame (acknowledgements, notices) carries no quote: None, unless unreadable."""
    try:
        json.loads(text)
    except ValueError:
        return DroppedFrame("text frame not JSON")
    return None


async def _first_text_frame(websocket: ClientConnection) -> dict[str, Any]:
    """The feed's answer to authentication: its first text frame, a JSON object."""
    async for message in websocket:
        if isinstance(message, str):
            answer = json.loads(message)
            return answer if isinstance(answer, dict) else {}
    raise FeedDisconnected("SFeed closed before answering the authentication")


def _dividers(exchanges: object) -> dict[int, int]:
    dividers: dict[int, int] = {}
    if isinstance(exchanges, dict):
        for info in exchanges.values():
            if not isinstance(info, dict):
                continue
            exchange_id, divider = info.get("value"), info.get("divider")
            if isinstance(exchange_id, int) and isinstance(divider, int) and divider > 0:
                dividers[exchange_id] = divider
    return dividers


async def _get(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Response:
    response = await _request(http, "GET", url, headers, None)
    if not response.is_success:
        raise FeedDisconnected(f"Kotak Neo scrip master: HTTP {response.status_code}")
    return response


async def _request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    body: dict[str, str] | None,
) -> httpx.Response:
    try:
        return await http.request(method, url, headers=headers, json=body)
    except httpx.HTTPError as error:
        raise FeedDisconnected(f"Kotak Neo unreachable: {type(error).__name__}") from error


def _files_paths(response: httpx.Response) -> list[str]:
    try:
        data = response.json().get("data") or {}
        return [str(path) for path in data.get("filesPaths") or []]
    except (ValueError, AttributeError) as error:
        raise FeedDisconnected("Kotak Neo scrip master listing unreadable") from error


def make_feed(clock: Clock, settings: KotakNeoSettings | None = None) -> KotakNeoFeed:
    """The adapter for ``OPTBUS_MARKET_DATA_SOURCE=kotak-neo``, from ``OPTBUS_KOTAK_NEO_*``."""
    return KotakNeoFeed(settings or KotakNeoSettings(), clock)
