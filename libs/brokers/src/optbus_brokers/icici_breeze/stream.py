"""Breeze's live quote stream over Socket.IO, as a ``FeedConnection``.

We speak the protocol with python-socketio's asyncio client rather than through breeze-connect:
the SDK's client is the threaded one (callbacks on its own threads), it downloads the security
master with a blocking ``urlopen`` at import time, and it rejoins rooms on its own after a
reconnect. Here reconnecting is the market-data service's job, so the client never reconnects,
and Engine.IO answers the server's pings (Breeze's heartbeat) inside the same event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import socketio

from optbus_brokers.feed import (
    DroppedFrame,
    FeedDisconnected,
    FeedItem,
    FeedLoginFailed,
    Instrument,
)
from optbus_brokers.icici_breeze.frames import decode_quote_frame, quote_room

# breeze-connect identifies itself so; the stream is known to accept it.
_USER_AGENT = "python-socketio[client]/socket"
_QUOTE_EVENT = "stock"


class _Ended:
    """Put on the queue when the socket closes: ``items`` raises after what came before it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class BreezeStream:
    """One connected Socket.IO client and the frames it has received, in order."""

    def __init__(self, client: socketio.AsyncClient) -> None:
        self._client = client
        self._received: asyncio.Queue[FeedItem | _Ended] = asyncio.Queue()
        client.on(_QUOTE_EVENT, self._on_quote)
        client.on("disconnect", self._on_disconnect)

    @classmethod
    async def open(cls, url: str, user_id: str, session_key: str, timeout_s: float) -> BreezeStream:
        client = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        stream = cls(client)
        try:
            await client.connect(
                url,
                headers={"User-Agent": _USER_AGENT},
                auth={"user": user_id, "token": session_key},
                transports=["websocket"],
                wait_timeout=max(1, round(timeout_s)),
            )
        except BaseException as error:
            refused = bool(client.failed_namespaces)
            # Only a disconnect closes the HTTP session the transport opened, even a failed one.
            await client.disconnect()
            if not isinstance(error, socketio.exceptions.ConnectionError):
                raise
            if refused:
                # The server answered and refused the credentials: the session has ended.
                raise FeedLoginFailed("Breeze stream refused the session") from None
            raise FeedDisconnected(f"Breeze stream unreachable: {error}") from None
        return stream

    async def subscribe(self, instruments: Sequence[Instrument]) -> None:
        await self._emit("join", instruments)

    async def unsubscribe(self, instruments: Sequence[Instrument]) -> None:
        await self._emit("leave", instruments)

    async def items(self) -> AsyncIterator[FeedItem]:
        while True:
            item = await self._received.get()
            if isinstance(item, _Ended):
                raise FeedDisconnected(item.reason)
            yield item

    async def close(self) -> None:
        await self._client.disconnect()

    async def _emit(self, event: str, instruments: Sequence[Instrument]) -> None:
        if not instruments:
            return
        try:
            await self._client.emit(event, [quote_room(i.token) for i in instruments])
        except socketio.exceptions.BadNamespaceError:
            raise FeedDisconnected("Breeze stream is not connected") from None

    async def _on_quote(self, *arguments: object) -> None:
        if len(arguments) != 1:
            self._received.put_nowait(DroppedFrame("quote event with several arguments"))
            return
        self._received.put_nowait(decode_quote_frame(arguments[0]))

    async def _on_disconnect(self, *reason: object) -> None:
        self._received.put_nowait(_Ended(f"Breeze stream closed: {reason[0] if reason else ''}"))
