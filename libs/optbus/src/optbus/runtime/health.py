"""Health checks: ``/healthz`` and the dependency gauges both run them, each bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from faststream.asgi import AsgiResponse, get
from faststream.asgi.types import ASGIApp
from faststream.nats import NatsBroker
from nats.errors import Error as NatsError

HealthCheck = Callable[[], Awaitable[bool]]
HEALTH_CHECK_TIMEOUT_SECONDS = 0.6
"""Each health check's bound: /healthz answers within a second even when a check hangs. The
rest of the second is the HTTP round trip and the event loop's other work (0.8 s left too
little on a loaded machine: answers took up to 1.2 s)."""


async def nats_answers(broker: NatsBroker) -> bool:
    """A round trip to the server (PING, PONG): a connection that looks open but whose server
    stopped answering fails it, where the client's own connection state would still say up.
    The caller bounds the wait."""
    if not await broker.ping(HEALTH_CHECK_TIMEOUT_SECONDS):
        return False
    try:
        await broker.connection.flush()
    except NatsError:
        return False
    return True


async def failure(name: str, check: HealthCheck) -> str | None:
    """Why ``check`` failed, or None when it passed within the bound."""
    try:
        passed = await asyncio.wait_for(check(), HEALTH_CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"{name}: no answer within {HEALTH_CHECK_TIMEOUT_SECONDS:g} s"
    return None if passed else f"{name}: failed"


def service_checks(broker: NatsBroker, checks: Mapping[str, HealthCheck]) -> dict[str, HealthCheck]:
    """A service's checks by name: NATS's round trip, then the service's own (its database)."""
    return {"nats": partial(nats_answers, broker), **checks}


async def failures(checks: Mapping[str, HealthCheck]) -> dict[str, str | None]:
    """Each check's failure (None when it passed), run side by side, each bounded: the answer
    comes within the bound whatever hangs."""
    reasons = await asyncio.gather(*(failure(name, check) for name, check in checks.items()))
    return dict(zip(checks, reasons, strict=True))


def health_route(checks: Mapping[str, HealthCheck]) -> ASGIApp:
    """``/healthz``: 204, or 503 naming each check that failed or did not answer in time (a
    probe that waits on a hung dependency would tell nobody anything)."""

    @get
    async def healthz(scope: object) -> AsgiResponse:
        reasons = (await failures(checks)).values()
        failed = [reason for reason in reasons if reason is not None]
        if failed:
            return AsgiResponse("\n".join(failed).encode(), 503)
        return AsgiResponse(b"", 204)

    return healthz


def threaded_check(check: Callable[[], bool]) -> HealthCheck:
    """A blocking check run in a worker thread, one at a time.

    A thread cannot be cancelled: when the check hangs, the next probe awaits the same run
    instead of starting another, so a hung dependency holds one worker thread, not one per
    probe until the threads every ``asyncio.to_thread`` of the service shares are used up."""
    running: asyncio.Future[bool] | None = None

    async def in_thread() -> bool:
        nonlocal running
        if running is None or running.done():
            running = asyncio.ensure_future(asyncio.to_thread(check))
        return await asyncio.shield(running)

    return in_thread
