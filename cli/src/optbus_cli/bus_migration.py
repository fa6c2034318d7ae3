"""``optbus bus migrate``: the bus's streams, buckets and the services' durable consumers,
made by the one login allowed to.

Every process that starts its own bus (the demo, a replay, the tests' servers) runs the same
step before its services, as compose and Kubernetes do before theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nats.errors import Error as NatsError

from optbus.runtime.migration import declared_consumers, migrate_bus
from optbus.runtime.nats_security import NatsSecurity
from optbus.runtime.nats_security import connect as connect_nats
from optbus.runtime.topology import ServiceTopology
from optbus.subjects import KILLSWITCH_BUCKET, MODELS_BUCKET, STREAM_NAMES
from optbus_cli.topologies import TOPOLOGIES


class MigrationFailed(RuntimeError):
    """The server could not be reached, or did not let this login create or update the bus."""


async def migrate(
    nats_url: str,
    *,
    ephemeral: bool = False,
    replicas: int | None = None,
    security: NatsSecurity | None = None,
    topologies: Iterable[ServiceTopology[Any]] = TOPOLOGIES,
) -> str:
    """Create or update every stream, create the buckets, and create or update every durable
    consumer of ``topologies`` (every service's, by default) at ``nats_url``; what is there
    now, in one line. A denied request only times out on the client, so the server's
    permission errors are kept to say why."""
    consumers = declared_consumers(topologies)
    refusals: list[str] = []

    async def remember(exc: Exception) -> None:
        refusals.append(str(exc))

    try:
        nc = await connect_nats(
            nats_url, security, connect_timeout=5, max_reconnect_attempts=1, error_cb=remember
        )
    except (NatsError, OSError) as exc:
        raise MigrationFailed(f"cannot reach NATS at {nats_url}: {exc!r}") from exc
    try:
        await migrate_bus(nc.jetstream(), consumers, ephemeral=ephemeral, replicas=replicas)
    except (NatsError, TimeoutError) as exc:
        said = f"; the server said: {'; '.join(refusals)}" if refusals else ""
        raise MigrationFailed(
            f"cannot migrate the bus at {nats_url} ({exc!r}){said}: "
            "run it as the migrator user (OPTBUS_NATS_NKEY_SEED_FILE: the migrator's seed)"
        ) from exc
    finally:
        await nc.close()
    return (
        f"streams {', '.join(STREAM_NAMES)}; buckets {KILLSWITCH_BUCKET}, {MODELS_BUCKET}; "
        f"{len(consumers)} durable consumers"
    )
