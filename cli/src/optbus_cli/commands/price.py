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
) -> None:
    """Price a CSV of options: implied volatility or price, and the five Greeks per row."""
    from optbus.pricing import price_csv

    try:
        source = input.open(newline="", encoding="utf-8")
    except OSError as exc:
        typer.echo(f"cannot read {input}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    with source:
        if output is None:
            price_csv(source, sys.stdout, sys.stderr)
        else:
            with output.open("w", newline="", encoding="utf-8") as sink:
                price_csv(source, sink, sys.stderr)
