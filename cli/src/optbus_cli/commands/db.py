"""``optbus db``: the database schema."""

from __future__ import annotations

from typing import Annotated

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_cli.commands.options import DatabaseUrl

db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)

KEEP_EVERYTHING = 0


@db_app.command("migrate")
def db_migrate(
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
    tick_retention_days: Annotated[
        int,
        typer.Option(
            min=0,
            envvar="OPTBUS_TICK_RETENTION_DAYS",
            help="Days of option_ticks to keep (0 keeps everything; minute bars are kept).",
        ),
    ] = 365,
    event_retention_days: Annotated[
        int,
        typer.Option(
            min=0,
            envvar="OPTBUS_EVENT_RETENTION_DAYS",
            help="Days of the events log to keep (0 keeps everything: replays read it).",
        ),
    ] = KEEP_EVERYTHING,
) -> None:
    """Create or complete the schema (TimescaleDB when available, else plain PostgreSQL) and
    apply the retention."""
    from optbus_persistence.schema import Retention, migrate

    retention = Retention(
        option_ticks_days=tick_retention_days or None, events_days=event_retention_days or None
    )
    typer.echo(f"schema ready: {migrate(database_url, retention).description}")
