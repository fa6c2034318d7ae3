"""``optbus demo`` and ``optbus export``: simulated sessions, played through the services or
written to a file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from optbus_cli.commands.options import FirstSession, Seed, SimulatedDays


def export(
    output: Annotated[Path, typer.Option("--output", "-o", help=".csv, .csv.gz or .parquet")],
    start_date: FirstSession,
    days: SimulatedDays = 1,
    minutes: Annotated[
        int | None, typer.Option(min=1, help="Only the first N trading minutes.")
    ] = None,
    seed: Seed = 7,
) -> None:
    """Write a simulated session as a recorded-session file (docs/recorded-session-format.md)."""
    from optbus.market import load_market_facts
    from optbus_market_data.export import export_session
    from optbus_market_data.simulator import SimulatorConfig

    config = SimulatorConfig(
        seed=seed, run_id=f"export-{seed}", start_date=start_date.date(), days=days
    )
    max_steps = None if minutes is None else int(minutes * 60 / config.step_seconds)
    rows = export_session(config, output, load_market_facts(), max_steps=max_steps)
    typer.echo(f"wrote {rows:,} rows to {output}")


def demo(
    minutes: Annotated[
        int, typer.Option(min=1, max=375, help="Trading minutes of the session to play.")
    ] = 120,
    speed: Annotated[
        str, typer.Option(help="'max' (as fast as possible) or a multiple of real time.")
    ] = "60",
    seed: Seed = 7,
    start_date: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The session to play (a trading day); default: the day after the last stored.",
        ),
    ] = None,
) -> None:
    """Play a simulated session through every service and print what it did.

    Uses NATS_URL and DATABASE_URL when they answer; otherwise starts an embedded nats-server
    and a local PostgreSQL under the user's state directory. Market data is paced to what
    the services keep up with at any speed; SIGTERM or Ctrl-C stops every service it started.
    """
    from optbus_cli.demo import DemoOptions, run_demo
    from optbus_market_data.pacing import parse_speed

    try:
        parse_speed(speed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--speed") from exc
    session = start_date.date() if start_date else None
    if session is not None:
        from optbus.market import load_market_facts

        if not load_market_facts().is_trading_day(session):
            raise typer.BadParameter(f"{session} is not a trading day", param_hint="--start-date")
    raise typer.Exit(
        run_demo(DemoOptions(minutes=minutes, speed=speed, seed=seed, session=session))
    )
