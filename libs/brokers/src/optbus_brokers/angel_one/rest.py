"""SmartAPI's REST side: the TOTP login, the token refresh, the scrip-master download and the
logged-in calls the order adapter makes.

Angel One issues three tokens at login: a JWT for REST calls and the WebSocket's
``Authorization``, a refresh token that renews the JWT (generateTokens) without a new TOTP, and
a feed token for SmartStream. They are held as ``SecretStr``: no log line or ``repr`` shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import msgspec
import pyotp
import structlog
from pydantic import SecretStr

from optbus.clock import Clock
from optbus_brokers.angel_one.settings import AngelOneSettings
from optbus_brokers.feed import FeedDisconnected, FeedLoginFailed
from optbus_brokers.orders import BrokerUnavailable

_log = structlog.get_logger()

LOGIN_PATH = "/rest/auth/angelbroking/user/v1/loginByPassword"
REFRESH_PATH = "/rest/auth/angelbroking/jwt/v1/generateTokens"

_NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class SmartApiSession:
    """The tokens of one logged-in session."""

    jwt_token: SecretStr
    refresh_token: SecretStr
    feed_token: SecretStr


class _Tokens(msgspec.Struct, frozen=True):
    # SmartAPI's own field names
    jwtToken: str
    refreshToken: str
    feedToken: str


class _Reply(msgspec.Struct, frozen=True):
    status: bool
    message: str = ""
    errorcode: str = ""
    data: _Tokens | None = None


class SmartApiRest:
    """Calls SmartAPI's REST endpoints with the headers every call needs.

    The clock is injected: the TOTP is computed for the clock's time, never the wall clock's.
    """

    def __init__(
        self, settings: AngelOneSettings, clock: Clock, api_key: SecretStr | None = None
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._api_key = api_key or settings.api_key

    def headers(self) -> dict[str, str]:
        """SmartAPI's fixed headers: the API key and the caller's declared addresses."""
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-UserType": "USER",
            "X-SourceID": "WEB",
            "X-ClientLocalIP": self._settings.client_local_ip,
            "X-ClientPublicIP": self._settings.client_public_ip,
            "X-MACAddress": self._settings.client_mac_address,
            "X-PrivateKey": self._api_key.get_secret_value(),
        }

    async def login(self) -> SmartApiSession:
        """A new session from the client code, PIN and the current TOTP."""
        totp = pyotp.TOTP(self._settings.totp_secret.get_secret_value())
        body = {
            "clientcode": self._settings.client_code,
            "password": self._settings.pin.get_secret_value(),
            "totp": totp.at(self._clock.now_ns() // _NS_PER_SECOND),
        }
        reply = await self._post(LOGIN_PATH, body, self.headers())
        return _session(reply, "login")

    async def renew(self, session: SmartApiSession | None) -> SmartApiSession:
        """``session`` renewed with its refresh token; a full TOTP login if there is none or
        Angel One refuses the refresh (refresh tokens expire with the trading day)."""
        if session is not None:
            try:
                renewed = await self.refresh(session)
                _log.info("angel_one.session_refreshed", client_code=self._settings.client_code)
                return renewed
            except FeedLoginFailed as refused:
                _log.info("angel_one.refresh_refused", reason=str(refused))
        fresh = await self.login()
        _log.info("angel_one.logged_in", client_code=self._settings.client_code)
        return fresh

    async def refresh(self, session: SmartApiSession) -> SmartApiSession:
        """A renewed session from ``session``'s refresh token (no TOTP needed)."""
        headers = self.headers() | {
            "Authorization": f"Bearer {session.jwt_token.get_secret_value()}"
        }
        body = {"refreshToken": session.refresh_token.get_secret_value()}
        reply = await self._post(REFRESH_PATH, body, headers)
        return _session(reply, "token refresh")

    async def scrip_master(self) -> bytes:
        """The OpenAPIScripMaster document, as downloaded."""
        timeout = aiohttp.ClientTimeout(total=self._settings.instruments_timeout_seconds)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.get(self._settings.instruments_url) as response,
            ):
                if response.status != 200:
                    raise FeedDisconnected(f"scrip master download: HTTP {response.status}")
                return await response.read()
        except (TimeoutError, aiohttp.ClientError) as error:
            raise FeedDisconnected(f"scrip master download failed: {error!r}") from None

    async def secure(
        self, method: str, path: str, session: SmartApiSession, body: object = None
    ) -> bytes:
        """One call of a logged-in session (``Authorization: Bearer <jwt>``): the reply's bytes.

        Raises ``BrokerUnavailable`` when SmartAPI cannot be reached or does not answer within
        ``request_timeout_seconds``: whatever was asked may or may not have happened.
        """
        headers = self.headers() | {
            "Authorization": f"Bearer {session.jwt_token.get_secret_value()}"
        }
        try:
            _status, payload = await self._send(method, path, body, headers)
        except (TimeoutError, aiohttp.ClientError) as error:
            raise BrokerUnavailable(f"SmartAPI {path} unanswered: {type(error).__name__}") from None
        return payload

    async def _post(self, path: str, body: dict[str, str], headers: dict[str, str]) -> _Reply:
        try:
            status, payload = await self._send("POST", path, body, headers)
        except (TimeoutError, aiohttp.ClientError) as error:
            raise FeedDisconnected(f"SmartAPI {path} unreachable: {type(error).__name__}") from None
        try:
            return msgspec.json.decode(payload, type=_Reply)
        except msgspec.DecodeError:
            raise FeedDisconnected(f"SmartAPI {path}: HTTP {status}, no SmartAPI reply") from None

    async def _send(
        self, method: str, path: str, body: object, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        timeout = aiohttp.ClientTimeout(total=self._settings.request_timeout_seconds)
        url = self._settings.api_url.rstrip("/") + path
        data = None if body is None else msgspec.json.encode(body)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.request(method, url, data=data, headers=headers) as response,
        ):
            return response.status, await response.read()


def _session(reply: _Reply, what: str) -> SmartApiSession:
    if not reply.status or reply.data is None:
        raise FeedLoginFailed(
            f"Angel One refused the {what}: {reply.errorcode or 'no code'} {reply.message}"
        )
    return SmartApiSession(
        jwt_token=SecretStr(reply.data.jwtToken),
        refresh_token=SecretStr(reply.data.refreshToken),
        feed_token=SecretStr(reply.data.feedToken),
    )
