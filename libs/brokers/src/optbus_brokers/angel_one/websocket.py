"""Opening Angel One's WebSockets (SmartStream and the order-status stream) the same way.

Both handshakes carry the session's JWT, the API key, the client code and the feed token; both
refuse an expired session with HTTP 401, after which one fresh login and one more attempt are
worth making. Each caller names the exception its port defines for a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from pydantic import SecretStr

from optbus_brokers.angel_one.rest import SmartApiSession

_HTTP_UNAUTHORIZED = 401

T = TypeVar("T")
Failure = Callable[[str], Exception]


def handshake_headers(
    session: SmartApiSession, api_key: SecretStr, client_code: str
) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {session.jwt_token.get_secret_value()}",
        "x-api-key": api_key.get_secret_value(),
        "x-client-code": client_code,
        "x-feed-token": session.feed_token.get_secret_value(),
    }


async def open_websocket(
    url: str,
    headers: dict[str, str],
    *,
    timeout_seconds: float,
    failure: Failure,
    what: str,
    heartbeat_seconds: float | None = None,
) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    """An open WebSocket and its HTTP session; a refused handshake raises
    ``aiohttp.WSServerHandshakeError`` (its status decides what next), anything else
    ``failure``."""
    http = aiohttp.ClientSession()
    try:
        async with asyncio.timeout(timeout_seconds):
            ws = await http.ws_connect(url, headers=headers, heartbeat=heartbeat_seconds)
    except aiohttp.WSServerHandshakeError:
        await http.close()
        raise
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        await http.close()
        raise failure(f"{what} unreachable: {type(error).__name__}") from None
    return http, ws


async def open_with_one_fresh_login(
    open_stream: Callable[[], Awaitable[T]],
    login: Callable[[], Awaitable[None]],
    *,
    failure: Failure,
    what: str,
) -> T:
    """``open_stream()``; when the handshake is refused for the session (HTTP 401), log in
    again and try once more."""
    try:
        return await open_stream()
    except aiohttp.WSServerHandshakeError as error:
        if error.status != _HTTP_UNAUTHORIZED:
            raise failure(f"{what} handshake: HTTP {error.status}") from None
    await login()
    try:
        return await open_stream()
    except aiohttp.WSServerHandshakeError as error:
        raise failure(f"{what} handshake: HTTP {error.status}") from None
