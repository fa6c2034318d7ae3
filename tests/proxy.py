"""A TCP proxy on loopback that makes the server behind it hang (``tc netem`` is not available).

Once stalled it still accepts connections and reads what clients send, but forwards nothing
either way: the kernel keeps acking, so to a client the server is alive and never answers,
which is what a hung database or message server looks like.
"""

from __future__ import annotations

import asyncio
import contextlib


class StallingProxy:
    """Forwards to ``host:port`` until ``stall()``, or until a client sends ``stall_after``
    (that message is still forwarded; nothing is after it)."""

    def __init__(self, host: str, port: int, stall_after: bytes | None = None) -> None:
        self._target = (host, port)
        self._stall_after = stall_after
        self._forwarding = asyncio.Event()
        self._forwarding.set()
        self._pipes: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> StallingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stall(self) -> None:
        """From now on, forward nothing."""
        self._forwarding.clear()

    def resume(self) -> None:
        """Forward again, what was held back first: the server answers again."""
        self._forwarding.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        server, to_server = await asyncio.open_connection(*self._target)
        for pipe in (
            self._pipe(client, to_server, self._stall_after),
            self._pipe(server, to_client),
        ):
            task = asyncio.create_task(pipe)
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, trigger: bytes | None = None
    ) -> None:
        tail = b""
        try:
            while data := await source.read(65536):
                await self._forwarding.wait()
                sink.write(data)
                await sink.drain()
                if trigger is not None and trigger in tail + data:
                    self.stall()
                tail = data[-len(trigger) :] if trigger else b""
        finally:
            with contextlib.suppress(ConnectionError, RuntimeError):
                sink.close()
