"""``optbus import``: real history into the database, beside what the bus recorded."""

from __future__ import annotations

from datetime import datetime
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


@import_app.command("breeze")
def import_breeze(
    underlying: Annotated[str, typer.Option(help="NIFTY or BANKNIFTY.")],
    from_day: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")],
    to_day: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day.")],
    expiry: Annotated[
        list[datetime] | None,
        typer.Option(formats=["%Y-%m-%d"], help="Expiries to import (default: each day's next)."),
    ] = None,
    strikes: Annotated[int, typer.Option(min=0, help="Strikes each side of the money.")] = 10,
    interval: Annotated[str, typer.Option(help="1minute or 1second bars.")] = "1minute",
    spread_fraction: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Modelled spread, a fraction of the price.")
    ] = 0.001,
    spread_min_ticks: Annotated[
        int, typer.Option(min=1, help="The modelled spread's least width, in ticks.")
    ] = 1,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Record ICICI Breeze's historical option bars as sessions `optbus backtest` replays.

    Logs in with OPTBUS_ICICI_BREEZE_API_KEY and _SESSION_TOKEN (the day's API session), fetches
    each contract-day not stored yet (pacing calls to Breeze's 100 a minute), then records the
    chains with bid and ask synthesised around each bar's close and marked as such
    (docs/history.md). Exits 1 when a bar was skipped, a day could not be recorded whole or
    Breeze's daily calls ran out: running it again goes on from what is stored.
    """
    import asyncio

    from optbus.market import load_market_facts
    from optbus_brokers.icici_breeze.history import BreezeHistory, DailyCallsSpent
    from optbus_brokers.icici_breeze.history_chain import SpreadRule
    from optbus_brokers.icici_breeze.settings import BreezeSettings
    from optbus_cli.breeze_history import BREEZE_STOCK_CODES, BreezeImport, ImportOutcome
    from optbus_cli.breeze_history import import_breeze as run_import
    from optbus_persistence.schema import SchemaMissing

    if underlying not in BREEZE_STOCK_CODES or interval not in ("1minute", "1second"):
        typer.echo("--underlying is NIFTY or BANKNIFTY; --interval 1minute or 1second", err=True)
        raise typer.Exit(2)
    request = BreezeImport(
        underlying=underlying,
        first_day=from_day.date(),
        last_day=to_day.date(),
        expiries=tuple(day.date() for day in expiry or ()),
        strikes_each_side=strikes,
        interval="1second" if interval == "1second" else "1minute",
        spread=SpreadRule(spread_fraction, spread_min_ticks),
    )

    async def run() -> ImportOutcome:
        async with BreezeHistory(BreezeSettings()) as history:
            return await run_import(request, history, database_url, load_market_facts(), typer.echo)

    try:
        outcome = asyncio.run(run())
    except (SchemaMissing, DailyCallsSpent) as error:
        typer.echo(
            f"{error}; what is stored stays, an import run again goes on from there", err=True
        )
        raise typer.Exit(1) from None
    if outcome.skipped_bars or outcome.unrecorded_days:
        raise typer.Exit(1)
