"""``optbus db``: the database schema."""

from __future__ import annotations

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_cli.commands.options import DatabaseUrl

db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)


@db_app.command("migrate")
def db_migrate(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Create or complete the schema (TimescaleDB when available, else plain PostgreSQL)."""
    from optbus_persistence.schema import migrate

    typer.echo(f"schema ready: {migrate(database_url).description}")
