"""Angel One's order-status WebSocket: every change of an order of the account, as it happens.

Each message is JSON text: ``{"user-id", "status-code", "order-status": "AB01".."AB11",
"error-message", "orderData": {...}}`` where ``orderData`` is the order as the order book shows
it. The first message after the handshake (``AB00``) only confirms the connection. Heartbeats
are WebSocket ping frames, as the official SDK sends them; silence beyond
``silence_timeout_seconds`` means the connection is dead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import msgspec
import structlog

from optbus_brokers.angel_one.order_book import OrderRow, broker_order
from optbus_brokers.orders import BrokerUnavailable, OrderUpdate

CONNECTED_STATUS = "AB00"

_log = structlog.get_logger()


class _Status(msgspec.Struct, frozen=True):
    order_status: str = msgspec.field(name="order-status")


class _StatusWithOrder(msgspec.Struct, frozen=True):
    order_status: str = msgspec.field(name="order-status")
    order_data: OrderRow | None = msgspec.field(default=None, name="orderData")


def decode_order_status(
    text: str, client_order_ids: Callable[[str], str | None]
) -> OrderUpdate | None:
    """The order a message reports, or ``None`` for the connection's greeting; raises
    ``ValueError`` (or ``msgspec.DecodeError``) for a message that cannot be read."""
    # The greeting's orderData is a row of empty strings: look at the status alone first.
    if msgspec.json.decode(text, type=_Status).order_status == CONNECTED_STATUS:
        return None
    message = msgspec.json.decode(text, type=_StatusWithOrder, strict=False)
    if message.order_data is None:
        raise ValueError(f"order status {message.order_status} without orderData")
    return broker_order(message.order_data, client_order_ids)


class OrderStatusConnection:
    """An ``OrderUpdateConnection`` over one open order-status WebSocket."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        ws: aiohttp.ClientWebSocketResponse,
        silence_timeout_seconds: float,
        client_order_ids: Callable[[str], str | None],
    ) -> None:
        self._http = http
        self._ws = ws
        self._silence_timeout = silence_timeout_seconds
        self._client_order_ids = client_order_ids
        self.unreadable_messages = 0

    async def items(self) -> AsyncIterator[OrderUpdate]:
        while True:
            try:
                message = await self._ws.receive(timeout=self._silence_timeout)
            except TimeoutError:
                await self.close()
                raise BrokerUnavailable(
                    f"order-status stream silent for {self._silence_timeout} s"
                ) from None
            if message.type != aiohttp.WSMsgType.TEXT:
                await self.close()
                raise BrokerUnavailable(
                    f"order-status stream ended: {message.type.name} (code {self._ws.close_code})"
                )
            try:
                update = decode_order_status(message.data, self._client_order_ids)
            except (msgspec.DecodeError, ValueError) as error:
                # A message that cannot be read is counted and skipped: the caller reconciles
                # with the order book, which shows every order whatever the stream said.
                self.unreadable_messages += 1
                _log.warning("angel_one.order_status_unreadable", reason=str(error))
                continue
            if update is not None:
                yield update

    async def close(self) -> None:
        await self._ws.close()
        await self._http.close()
