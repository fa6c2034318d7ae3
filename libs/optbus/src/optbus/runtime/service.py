"""The FastStream app factory every service's composition root uses."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import uvicorn
import uvloop
from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import make_asgi_app

from optbus.runtime.consumer import PullConsumer
from optbus.runtime.health import HealthCheck, health_route, service_checks
from optbus.runtime.history import IncompleteHistory
from optbus.runtime.logs import configure_logging
from optbus.runtime.metrics import UP
from optbus.runtime.migration import MIGRATE_HINT, BusNotMigrated, check_consumers, check_streams
from optbus.runtime.monitoring import DependencyMonitor, start_series_at_zero
from optbus.runtime.settings import ServiceSettings
from optbus.runtime.topology import ServiceTopology

T = TypeVar("T")
Hook = Callable[[], Awaitable[None]]
STARTUP_FAILED_EXIT_CODE = 3
"""What a service process exits with when it refused to start (uvicorn's own code for it)."""


_CONSUMING: weakref.WeakKeyDictionary[AsgiFastStream, asyncio.Event] = weakref.WeakKeyDictionary()
"""Each app's mark, set once its consumers started and its ``on_ready`` hooks ran. FastStream
reports the ASGI startup complete before its ``after_startup`` hooks (the consumers) run, so
uvicorn's ``started`` alone comes too early: a test publishing then to a consumer that starts
at new messages lost the message."""


NATS_MAX_OUTSTANDING_PINGS = 2
"""Pings left unanswered before the client drops its server and fails over to another member:
with the ping interval, how long a service stays on a member cut off from the cluster."""


def make_broker(settings: ServiceSettings) -> NatsBroker:
    """A NATS broker that logs nothing per message and drains in-flight work on shutdown,
    logged in and checking the server as ``settings.nats_security`` says."""
    return NatsBroker(
        settings.nats_servers,
        security=settings.nats_security.broker_security(),
        logger=None,
        graceful_timeout=settings.graceful_timeout_seconds,
        max_reconnect_attempts=-1,
        ping_interval=settings.nats_ping_interval_seconds,
        max_outstanding_pings=NATS_MAX_OUTSTANDING_PINGS,
    )


def create_app(
    topology: ServiceTopology[Any],
    settings: ServiceSettings,
    broker: NatsBroker,
    *,
    consumers: Sequence[PullConsumer] = (),
    on_connected: Sequence[Hook] = (),
    on_ready: Sequence[Hook] = (),
    on_stopping: Sequence[Hook] = (),
    health_checks: Mapping[str, HealthCheck] | None = None,
) -> AsgiFastStream:
    """A service app: its streams checked and consumers started at start, stopped (after
    their batch in hand) at shutdown; ``/metrics`` and ``/healthz`` served over HTTP.

    The service refuses to start (fails closed, the process exits non-zero) when a stream of
    ``topology`` or the durable of one of ``consumers`` is missing or not as declared: it may
    not fix either itself (``optbus bus migrate`` does), and waiting would look alive to
    whoever runs it while nothing flows. ``on_connected`` hooks run once the
    streams are checked and before any consumer starts (to restore state); ``on_ready`` hooks
    run after the consumers started. ``/healthz`` checks the NATS connection and each of
    ``health_checks`` (by name); the same checks and each consumer's lag are exported as
    gauges every ``settings.monitor_interval_seconds``."""
    service = topology.service
    logger = configure_logging(service, settings.log_level)
    start_series_at_zero(topology)
    checks = service_checks(broker, health_checks or {})
    monitor = DependencyMonitor(
        service, checks, lambda: broker.connection.jetstream(),
        [consumer.spec for consumer in consumers], settings.monitor_interval_seconds,
    )  # fmt: skip

    async def connect_and_check_streams() -> None:
        await broker.connect()
        js = broker.connection.jetstream()
        try:
            await check_streams(js, topology.streams)
            await check_consumers(js, [consumer.spec for consumer in consumers])
        except BusNotMigrated as exc:
            logger.error("refusing to start: the bus is not as declared",
                         problems=list(exc.problems), fix=MIGRATE_HINT)  # fmt: skip
            raise
        try:
            for hook in on_connected:
                await hook()
        except IncompleteHistory as exc:
            logger.error("refusing to start: the history is incomplete", stream=exc.stream,
                         subject=exc.subject, missing=exc.missing, error=str(exc))  # fmt: skip
            raise
        UP.labels(service).set(1)

    async def start_consumers() -> None:
        for consumer in consumers:
            await consumer.start()

    async def stop_consumers() -> None:
        await asyncio.gather(*(consumer.stop() for consumer in consumers))

    async def mark_down() -> None:
        UP.labels(service).set(0)

    consuming = asyncio.Event()

    async def mark_consuming() -> None:
        consuming.set()

    app = AsgiFastStream(
        broker,
        asgi_routes=[
            ("/metrics", make_asgi_app()),
            ("/healthz", health_route(checks)),
        ],
        logger=logger,
        on_startup=[connect_and_check_streams],
        after_startup=[start_consumers, monitor.start, *on_ready, mark_consuming],
        on_shutdown=[monitor.stop, stop_consumers, *on_stopping, mark_down],
    )
    _CONSUMING[app] = consuming
    return app


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
        self._consuming = _CONSUMING.get(app)

    async def serve(self) -> None:
        """Run until told to stop."""
        await self._server.serve()

    @property
    def started(self) -> bool:
        """True once the app has connected, checked its streams and started consuming."""
        consuming = self._consuming is None or self._consuming.is_set()
        return bool(self._server.started) and consuming

    def request_stop(self) -> None:
        """Ask the server to shut down gracefully, as SIGTERM would."""
        self._server.should_exit = True


async def serve(app: AsgiFastStream, settings: ServiceSettings) -> None:
    """Run the app until SIGINT/SIGTERM; exit non-zero when it never started (a failed
    startup hook, such as a restore that could not complete), which uvicorn alone would not."""
    runner = ServiceRunner(app, settings)
    await runner.serve()
    if not runner.started:
        raise SystemExit(STARTUP_FAILED_EXIT_CODE)


def run_on_uvloop(main: Coroutine[Any, Any, T]) -> T:
    """Run a process's main coroutine on uvloop, which handles each bus message with about
    half the CPU of the standard event loop (every hop of a replay pays it)."""
    return uvloop.run(main)
