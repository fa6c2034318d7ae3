"""``optbus bus``: the bus's streams, buckets and durable consumers."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from optbus.runtime.settings import DEFAULT_NATS_URL
from optbus_cli.commands.options import NatsUrl

bus_app = typer.Typer(help="Bus layout commands.", no_args_is_help=True)


@bus_app.command("migrate")
def bus_migrate(
    nats_url: NatsUrl = DEFAULT_NATS_URL,
    replicas: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=5,
            help="Cluster members holding each stream (3 in a production cluster); "
            "default: a new stream the server's default, an existing one its own.",
        ),
    ] = None,
) -> None:
    """Create or update every stream, create the buckets, and create or update every durable
    consumer the services declare (idempotent).

    The services may not: they check their streams and durables at start and refuse to start
    until this ran.
    """
    from optbus_cli.bus_migration import MigrationFailed, migrate

    try:
        typer.echo(f"bus ready: {asyncio.run(migrate(nats_url, replicas=replicas))}")
    except MigrationFailed as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
