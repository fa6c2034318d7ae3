"""The two-column "what / value" tables the CLI prints its figures in."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table


def figures_table(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    """A table of named figures, values right-aligned."""
    table = Table(title=title)
    table.add_column("what")
    table.add_column("value", justify="right")
    for what, value in rows:
        table.add_row(what, value)
    return table


def figure(value: float | None, unit: str = "") -> str:
    """A measured figure to one decimal with its unit, or n/a when there was nothing to measure."""
    return "n/a" if value is None else f"{value:,.1f}{unit}"
