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


@import_app.command("span")
def import_span(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="NSE's SPAN XML file (.spn).")
    ],
    span_dir: Annotated[
        Path,
        typer.Option(
            envvar="OPTBUS_RISK_SPAN_DIR",
            help="The risk service's SPAN directory (its OPTBUS_RISK_SPAN_DIR).",
        ),
    ] = Path("span"),
) -> None:
    """Check NSE's SPAN risk-parameter file and store it where the risk service loads it.

    The file is read whole (every index option needs its sixteen risk-array values) and stored
    as <business date>.spn; the risk service loads the latest at start and uses it for margin on
    its business date (docs/risk.md, "SPAN file"). Exits 1 when the file is not a SPAN file.
    """
    from optbus.span import SPAN_FILE_SUFFIX, NotASpanFile, parse_span

    raw = file.read_bytes()
    try:
        span = parse_span(raw)
    except NotASpanFile as error:
        typer.echo(f"{file.name}: nothing imported: {error}", err=True)
        raise typer.Exit(1) from None
    span_dir.mkdir(parents=True, exist_ok=True)
    target = span_dir / f"{span.business_date:%Y%m%d}{SPAN_FILE_SUFFIX}"
    target.write_bytes(raw)
    indices = sorted({key[0] for key in span.risk_arrays})
    typer.echo(
        f"{file.name}: SPAN file of {span.business_date.isoformat()}, "
        f"{len(span.risk_arrays):,} option risk arrays ({', '.join(indices)}), stored as {target}"
    )
    for index, scan in sorted(span.scan_ranges.items()):
        typer.echo(f"  {index}: price scan {scan.price_scan:g}, volatility scan {scan.vol_scan:g}")
