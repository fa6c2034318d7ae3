"""The Angel One SmartAPI market feed: the ``BrokerFeed`` the market-data service composes.

Not built on the official SDK (``smartapi-python``): its ``SmartConnect`` calls a public web
service while the class body runs (at import), its REST calls block, and its
``SmartWebSocketV2`` runs a blocking ``websocket-client`` loop on a thread with reconnects of
its own; none of it fits an asyncio service whose reconnects the service owns. The adapter
speaks the same documented protocol with aiohttp instead, and the tests prove the local fake it
is tested against is accepted by the SDK's own client and parser (docs/brokers/angel-one.md).
"""

from __future__ import annotations

import asyncio

import aiohttp
import structlog

from optbus.clock import Clock
from optbus_brokers.angel_one.rest import SmartApiRest, SmartApiSession
from optbus_brokers.angel_one.scrip_master import parse_scrip_master
from optbus_brokers.angel_one.settings import AngelOneSettings
from optbus_brokers.angel_one.smartstream import MAX_TOKENS_PER_SESSION
from optbus_brokers.angel_one.stream import SmartStreamConnection
from optbus_brokers.feed import FeedDisconnected, Instrument

_log = structlog.get_logger()

_HTTP_UNAUTHORIZED = 401


class AngelOneFeed:
    """Angel One's login, instrument master and SmartStream, behind ``BrokerFeed``."""

    def __init__(self, settings: AngelOneSettings, clock: Clock) -> None:
        self._settings = settings
        self._rest = SmartApiRest(settings, clock)
        self._session: SmartApiSession | None = None

    @property
    def name(self) -> str:
        return "angel-one"

    @property
    def max_subscriptions(self) -> int:
        return MAX_TOKENS_PER_SESSION

    async def login(self) -> None:
        """Renew the session, or log in afresh (``SmartApiRest.renew``)."""
        self._session = await self._rest.renew(self._session)

    async def load_instruments(self) -> list[Instrument]:
        document = await self._rest.scrip_master()
        # Tens of megabytes take a second or two to read: off the event loop, so the open
        # stream's heartbeat and frames go on meanwhile.
        master = await asyncio.to_thread(parse_scrip_master, document)
        if master.unreadable_rows:
            _log.warning(
                "angel_one.scrip_master_rows_skipped",
                rows=master.unreadable_rows,
                first=master.first_problem,
            )
        return master.instruments

    async def connect(self) -> SmartStreamConnection:
        """Open SmartStream with the current session; on a refused session, log in again once."""
        try:
            return await self._open_stream()
        except aiohttp.WSServerHandshakeError as error:
            if error.status != _HTTP_UNAUTHORIZED:
                raise FeedDisconnected(f"SmartStream handshake: HTTP {error.status}") from None
        await self.login()
        try:
            return await self._open_stream()
        except aiohttp.WSServerHandshakeError as error:
            raise FeedDisconnected(f"SmartStream handshake: HTTP {error.status}") from None

    async def _open_stream(self) -> SmartStreamConnection:
        if self._session is None:
            await self.login()
        assert self._session is not None
        headers = {
            "Authorization": f"Bearer {self._session.jwt_token.get_secret_value()}",
            "x-api-key": self._settings.api_key.get_secret_value(),
            "x-client-code": self._settings.client_code,
            "x-feed-token": self._session.feed_token.get_secret_value(),
        }
        http = aiohttp.ClientSession()
        try:
            async with asyncio.timeout(self._settings.request_timeout_seconds):
                ws = await http.ws_connect(self._settings.ws_url, headers=headers)
        except aiohttp.WSServerHandshakeError:
            await http.close()
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            await http.close()
            raise FeedDisconnected(f"SmartStream unreachable: {type(error).__name__}") from None
        return SmartStreamConnection(http, ws, self._settings)


def make_feed(clock: Clock, settings: AngelOneSettings | None = None) -> AngelOneFeed:
    """The Angel One feed the market-data service composes by name (``angel-one``), on the
    ``OPTBUS_ANGEL_ONE_*`` settings of the environment unless ``settings`` are given."""
    return AngelOneFeed(settings or AngelOneSettings(), clock)
