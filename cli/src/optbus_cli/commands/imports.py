"""``optbus import``: real history into the database, beside what the bus recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_cli.commands.options import DatabaseUrl

import_app = typer.Typer(help="Import real market history.", no_args_is_help=True)

BhavcopyFiles = Annotated[
    list[Path],
    typer.Argument(
        exists=True,
        dir_okay=False,
        help="UDiFF F&O bhavcopy files (.csv, or the .csv.zip NSE publishes).",
    ),
]


@import_app.command("bhavcopy")
def import_bhavcopy(files: BhavcopyFiles, database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Store NSE's F&O bhavcopy (settlement, close, open interest, volume per contract per day).

    Each file is stored in one transaction: its rows that break a rule are listed with their
    line numbers and skipped, a file that is not a bhavcopy stores nothing. Importing a file
    again stores nothing new. Exits 1 when a file could not be imported.
    """
    from psycopg.errors import UndefinedTable

    from optbus_cli.history import import_bhavcopy_files
    from optbus_persistence.schema import SchemaMissing

    try:
        imported_all = import_bhavcopy_files(files, database_url, typer.echo)
    except SchemaMissing as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    except UndefinedTable:
        typer.echo("the schema has no fo_bhavcopy table yet: run `optbus db migrate`", err=True)
        raise typer.Exit(1) from None
    if not imported_all:
        raise typer.Exit(1)
