"""``optbus price``: the pricing library on a CSV file, no bus or database needed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def price(
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV of options to price.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output CSV (stdout if omitted).")
    ] = None,
    allow_errors: Annotated[
        bool, typer.Option(help="Exit 0 even when some rows could not be priced.")
    ] = False,
) -> None:
    """Price a CSV of options: implied volatility or price, and the five Greeks per row.

    A row that cannot be priced keeps its place with its reason in the ``error`` column and is
    listed on stderr; the command then exits 1, unless ``--allow-errors``. A file that is not a
    pricing CSV (empty, a required column missing, not UTF-8 text) exits 2.
    """
    from optbus.pricing import CsvFileError, price_csv
    from optbus_cli.exit_codes import ExitCode

    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" begins with a byte-order mark, which would
        # otherwise be read into the first column's name ("\ufeffkind")
        with input.open(newline="", encoding="utf-8-sig") as source:
            if output is None:
                bad_rows = price_csv(source, sys.stdout, sys.stderr)
            else:
                with output.open("w", newline="", encoding="utf-8") as sink:
                    bad_rows = price_csv(source, sink, sys.stderr)
    except (CsvFileError, UnicodeDecodeError, OSError) as error:
        from optbus_cli.failures import explain

        reason = str(error) if isinstance(error, CsvFileError) else explain(error)[1]
        typer.echo(f"{input}: nothing priced: {reason}", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    if bad_rows and not allow_errors:
        raise typer.Exit(ExitCode.FAILED)
