"""Command-line options that several commands take, declared once so they read alike."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from optbus_cli.database_urls import checked_database_url

NatsUrl = Annotated[str, typer.Option(envvar="NATS_URL", help="NATS server URL.")]
DatabaseUrl = Annotated[
    str,
    typer.Option(envvar="DATABASE_URL", help="PostgreSQL URL.", callback=checked_database_url),
]
Seed = Annotated[int, typer.Option(help="Simulator seed.")]
SimulatedDays = Annotated[int, typer.Option(min=1, help="Trading days to simulate.")]
FirstSession = Annotated[
    datetime, typer.Option(formats=["%Y-%m-%d"], help="First session (a trading day).")
]
Index = Annotated[str, typer.Argument(help="The index: NIFTY or BANKNIFTY.")]
BhavcopyDay = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="The trading day (default: the latest imported)."),
]
StrategiesFile = Annotated[Path | None, typer.Option(help="Strategies file (TOML).")]
ResultsDir = Annotated[Path, typer.Option(help="Where the trade log and report go.")]
