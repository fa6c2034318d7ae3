"""The FastStream app factory every service's composition root uses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import uvicorn
import uvloop
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.factories import make_ping_asgi
from faststream.asgi.types import ASGIApp
from faststream.nats import NatsBroker
from prometheus_client import make_asgi_app

from optbus.runtime.bus import ensure_streams
from optbus.runtime.consumer import PullConsumer
from optbus.runtime.logs import configure_logging
from optbus.runtime.metrics import UP
from optbus.runtime.settings import ServiceSettings

T = TypeVar("T")
HealthCheck = Callable[[], Awaitable[bool]]
Hook = Callable[[], Awaitable[None]]


def make_broker(settings: ServiceSettings) -> NatsBroker:
    """A NATS broker that logs nothing per message and drains in-flight work on shutdown."""
    return NatsBroker(
        settings.nats_url,
        logger=None,
        graceful_timeout=settings.graceful_timeout_seconds,
        max_reconnect_attempts=-1,
    )


def _health_route(broker: NatsBroker, checks: Sequence[HealthCheck]) -> ASGIApp:
    broker_ping = make_ping_asgi(broker, timeout=2.0)
    if not checks:
        return broker_ping

    @get
    async def healthz(scope: object) -> AsgiResponse:
        if not await broker.ping(2.0):
            return AsgiResponse(b"nats unreachable", 500)
        for check in checks:
            if not await check():
                return AsgiResponse(f"{check.__name__} failed".encode(), 500)
        return AsgiResponse(b"", 204)

    return healthz


def create_app(
    service: str,
    settings: ServiceSettings,
    broker: NatsBroker,
    *,
    consumers: Sequence[PullConsumer] = (),
    on_connected: Sequence[Hook] = (),
    on_ready: Sequence[Hook] = (),
    on_stopping: Sequence[Hook] = (),
    health_checks: Sequence[HealthCheck] = (),
) -> AsgiFastStream:
    """A service app: streams ensured and consumers started at start, stopped (after their
    batch in hand) at shutdown; ``/metrics`` and ``/healthz`` served over HTTP.

    ``on_connected`` hooks run once the streams exist and before any consumer starts (to
    restore state); ``on_ready`` hooks run after the consumers started."""

    async def connect_and_ensure_streams() -> None:
        await broker.connect()
        await ensure_streams(broker.connection.jetstream())
        for hook in on_connected:
            await hook()
        UP.labels(service).set(1)

    async def start_consumers() -> None:
        for consumer in consumers:
            await consumer.start()

    async def stop_consumers() -> None:
        await asyncio.gather(*(consumer.stop() for consumer in consumers))

    async def mark_down() -> None:
        UP.labels(service).set(0)

    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/metrics", make_asgi_app()),
            ("/healthz", _health_route(broker, health_checks)),
        ],
        logger=configure_logging(service, settings.log_level),
        on_startup=[connect_and_ensure_streams],
        after_startup=[start_consumers, *on_ready],
        on_shutdown=[stop_consumers, *on_stopping, mark_down],
    )


class ServiceRunner:
    """Serves an app over HTTP until SIGINT/SIGTERM or ``request_stop``; FastStream then drains
    in-flight messages before the process exits."""

    def __init__(self, app: AsgiFastStream, settings: ServiceSettings) -> None:
        config = uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)

    async def serve(self) -> None:
        """Run until told to stop."""
        await self._server.serve()

    @property
    def started(self) -> bool:
        """True once the app has connected, ensured its streams and started consuming."""
        return bool(self._server.started)

    def request_stop(self) -> None:
        """Ask the server to shut down gracefully, as SIGTERM would."""
        self._server.should_exit = True


async def serve(app: AsgiFastStream, settings: ServiceSettings) -> None:
    """Run the app until SIGINT/SIGTERM."""
    await ServiceRunner(app, settings).serve()


def run_on_uvloop(main: Coroutine[Any, Any, T]) -> T:
    """Run a process's main coroutine on uvloop, which handles each bus message with about
    half the CPU of the standard event loop (every hop of a replay pays it)."""
    return uvloop.run(main)
