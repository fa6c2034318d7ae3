"""One SmartStream 2.0 WebSocket session: subscriptions, the text heartbeat, decoded frames.

SmartStream expects the client to send the text ``ping`` periodically and answers ``pong``; a
connection that sends nothing, not even that answer, for ``silence_timeout_seconds`` is taken
for dead (a half-open TCP connection otherwise waits forever).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence

import aiohttp

from optbus_brokers.angel_one.settings import AngelOneSettings
from optbus_brokers.angel_one.smartstream import (
    EXCHANGE_TYPES,
    HEARTBEAT_REQUEST,
    SUBSCRIBE_ACTION,
    UNSUBSCRIBE_ACTION,
    decode_frame,
    decode_text,
    subscription_request,
)
from optbus_brokers.feed import FeedDisconnected, FeedItem, Instrument

_CLOSED_TYPES = frozenset(
    {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED}
)


class SmartStreamConnection:
    """A ``FeedConnection`` over one open SmartStream WebSocket (SNAP_QUOTE mode)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        ws: aiohttp.ClientWebSocketResponse,
        settings: AngelOneSettings,
    ) -> None:
        self._http = http
        self._ws = ws
        self._silence_timeout = settings.silence_timeout_seconds
        self._correlation_ids = itertools.count(1)
        self._heartbeat = asyncio.create_task(self._send_heartbeats(settings.heartbeat_seconds))

    async def subscribe(self, instruments: Sequence[Instrument]) -> None:
        await self._send_subscription(SUBSCRIBE_ACTION, instruments)

    async def unsubscribe(self, instruments: Sequence[Instrument]) -> None:
        await self._send_subscription(UNSUBSCRIBE_ACTION, instruments)

    async def items(self) -> AsyncIterator[FeedItem]:
        while True:
            try:
                message = await self._ws.receive(timeout=self._silence_timeout)
            except TimeoutError:
                await self.close()
                raise FeedDisconnected(
                    f"SmartStream silent for {self._silence_timeout} s, not even a pong"
                ) from None
            if message.type == aiohttp.WSMsgType.BINARY:
                yield decode_frame(message.data)
            elif message.type == aiohttp.WSMsgType.TEXT:
                dropped = decode_text(message.data)
                if dropped is not None:
                    yield dropped
            else:
                await self.close()
                raise FeedDisconnected(self._why_closed(message))

    async def close(self) -> None:
        self._heartbeat.cancel()
        await self._ws.close()
        await self._http.close()

    def _why_closed(self, message: aiohttp.WSMessage) -> str:
        if message.type in _CLOSED_TYPES:
            return f"SmartStream closed the connection (code {self._ws.close_code})"
        return f"SmartStream connection failed: {message.type.name} {message.data!r}"

    async def _send_subscription(self, action: int, instruments: Sequence[Instrument]) -> None:
        tokens_by_exchange: dict[int, list[str]] = defaultdict(list)
        for instrument in instruments:
            exchange_type = EXCHANGE_TYPES.get(instrument.segment)
            if exchange_type is None:
                raise ValueError(f"SmartStream has no exchange type for {instrument.segment!r}")
            tokens_by_exchange[exchange_type].append(instrument.token)
        if not tokens_by_exchange:
            return
        correlation_id = f"optbus{next(self._correlation_ids) % 10_000:04d}"
        await self._send(subscription_request(action, tokens_by_exchange, correlation_id))

    async def _send(self, text: str) -> None:
        try:
            await self._ws.send_str(text)
        except (ConnectionError, aiohttp.ClientError) as error:
            raise FeedDisconnected(f"SmartStream send failed: {type(error).__name__}") from None

    async def _send_heartbeats(self, interval_seconds: float) -> None:
        while not self._ws.closed:
            await asyncio.sleep(interval_seconds)
            try:
                await self._ws.send_str(HEARTBEAT_REQUEST)
            except (ConnectionError, aiohttp.ClientError):
                return  # the reader notices the closed connection and raises FeedDisconnected
