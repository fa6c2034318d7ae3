"""``optbus iv-rank``: IV rank and percentile over 252 trading days from the imported bhavcopy."""

from __future__ import annotations

from datetime import date

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_cli.commands.options import BhavcopyDay, DatabaseUrl, Index


def iv_rank(
    underlying: Index,
    on: BhavcopyDay = None,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Print today's ATM IV, its rank and its percentile over the last 252 trading days of the
    imported F&O bhavcopy (`optbus import bhavcopy`; docs/history.md, "IV rank").

    Exits 1 when the table holds no day with an ATM IV for the index.
    """
    from optbus import database
    from optbus.iv_rank import IV_RANK_DAYS, daily_atm_iv
    from optbus.iv_rank import iv_rank as rank_of
    from optbus.market import load_market_facts
    from optbus_persistence.history import load_index_option_days

    facts = load_market_facts()
    until = on.date() if on else date.max
    with database.connect(database_url) as conn:
        days = load_index_option_days(conn, underlying, until, IV_RANK_DAYS)
    readings = [r for r in (daily_atm_iv(rows, facts) for rows in days) if r is not None]
    ranked = rank_of([reading.iv for reading in readings])
    if ranked is None:
        typer.echo(f"no day of {underlying} index options with an ATM IV in fo_bhavcopy", err=True)
        raise typer.Exit(1)
    last = readings[-1]
    typer.echo(
        f"{underlying} {last.day.isoformat()}: ATM IV {ranked.current:.2%} "
        f"({last.strike:g}, expiry {last.expiry.isoformat()}), IV rank {ranked.rank:.2f}, "
        f"IV percentile {ranked.percentile:.2f} over {ranked.days} trading days"
    )
