"""``optbus term-structure``: one day's ATM IV by expiry from the imported bhavcopy."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_cli.commands.options import BhavcopyDay, DatabaseUrl, Index

if TYPE_CHECKING:
    from optbus.term_structure import TermStructure


def term_structure(
    underlying: Index,
    on: BhavcopyDay = None,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Print each listed expiry's ATM IV, forward and time to expiry at one day's settlement,
    from the imported F&O bhavcopy (`optbus import bhavcopy`; docs/history.md, "Term
    structure").

    Exits 1 when the table holds no index options of the underlying on the day, or none of its
    expiries has a call and a put settled at one strike.
    """
    from optbus import database
    from optbus.market import MarketFactsError, load_market_facts
    from optbus.term_structure import NoBhavcopyRows
    from optbus.term_structure import term_structure as structure_of
    from optbus_persistence.history import load_index_day

    with database.connect(database_url) as conn:
        rows = load_index_day(conn, underlying, on.date() if on else None)
    if on is None and not rows:
        _fail(f"no {underlying} index options in fo_bhavcopy: import a bhavcopy first")
    day = on.date() if on else rows[0].trade_date
    try:
        read = structure_of(rows, underlying, day, load_market_facts())
    except NoBhavcopyRows as error:
        _fail(f"{error}: import that day's file (`optbus import bhavcopy`)")
    except MarketFactsError as error:
        _fail(f"{underlying} {day.isoformat()}: {error}")
    if not read.points:
        _fail(
            f"{underlying} {day.isoformat()}: no expiry has a call and a put settled at one strike"
        )
    typer.echo(_table(read))


def _fail(line: str) -> NoReturn:
    typer.echo(line, err=True)
    raise typer.Exit(1)


def _table(read: TermStructure) -> str:
    lines = [
        f"{read.underlying} {read.day.isoformat()}: ATM implied volatility by expiry at settlement",
        f"{'expiry':<10}  {'days':>5}  {'years':>6}  {'forward':>10}  {'from':<6}  "
        f"{'strike':>8}  {'ATM IV':>7}",
    ]
    by_expiry = {point.expiry: point for point in read.points}
    for expiry in sorted([*by_expiry, *read.without_iv]):
        point = by_expiry.get(expiry)
        if point is None:
            lines.append(
                f"{expiry.isoformat():<10}  no ATM IV: no call and put settled at one strike"
            )
            continue
        lines.append(
            f"{expiry.isoformat():<10}  {point.days:>5}  {point.years:>6.4f}  "
            f"{point.forward:>10.2f}  {point.forward_source:<6}  {point.strike:>8g}  "
            f"{point.iv:>7.2%}"
        )
    return "\n".join(lines)
