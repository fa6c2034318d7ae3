"""``optbus status``: what the bus and the database hold right now."""

from __future__ import annotations

import asyncio

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL, DEFAULT_NATS_URL
from optbus_cli.commands.options import DatabaseUrl, NatsUrl


def status(
    nats_url: NatsUrl = DEFAULT_NATS_URL, database_url: DatabaseUrl = DEFAULT_DATABASE_URL
) -> None:
    """Show streams, consumers and their lag, and row counts.

    Exits 4 when NATS or the database does not answer (after showing what did)."""
    from optbus_cli.exit_codes import ExitCode
    from optbus_cli.status import print_status

    if not asyncio.run(print_status(nats_url, database_url)):
        raise typer.Exit(ExitCode.UNREACHABLE)
