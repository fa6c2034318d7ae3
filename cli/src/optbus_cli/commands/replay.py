"""``optbus replay``: its options, read and checked; the replay and its console output are
``optbus_cli.replay``, imported only when the command runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from optbus.runtime.settings import DEFAULT_DATABASE_URL, DEFAULT_NATS_URL
from optbus.timestamps import as_utc
from optbus_cli.commands.options import (
    DatabaseUrl,
    NatsUrl,
    ResultsDir,
    StrategiesFile,
)


def replay(
    start: Annotated[datetime, typer.Option("--from", help="Start of the window (UTC, ISO).")],
    end: Annotated[datetime, typer.Option("--to", help="End of the window (UTC, ISO).")],
    run_id: Annotated[str | None, typer.Option(help="Run id the results are stored under.")] = None,
    target_nats_url: Annotated[
        str | None,
        typer.Option(help="An isolated bus to replay on (default: an embedded nats-server)."),
    ] = None,
    speed: Annotated[str, typer.Option(help="'max' or a multiple of real time.")] = "max",
    persist_chains: Annotated[
        bool, typer.Option(help="Also store the recomputed greeks chains under the run id.")
    ] = False,
    strategies: StrategiesFile = None,
    out_dir: ResultsDir = Path(),
    nats_url: NatsUrl = DEFAULT_NATS_URL,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Replay recorded market events from the database through the services, on a bus of
    their own and on market time; store what they emit under the run id."""
    from optbus_cli.replay.console import replay_command
    from optbus_cli.replay.options import ReplayOptions
    from optbus_market_data.pacing import parse_speed

    try:
        pace = parse_speed(speed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--speed") from exc
    window = as_utc(start), as_utc(end)
    try:
        options = ReplayOptions(
            start=window[0], end=window[1], speed=pace, target_nats_url=target_nats_url,
            run_id=run_id or f"replay-{window[0]:%Y%m%dT%H%M}-{window[1]:%Y%m%dT%H%M}",
            live_nats_url=nats_url, persist_chains=persist_chains, strategies_file=strategies,
        )  # fmt: skip
        replay_command(options, database_url, out_dir)
    except (ValueError, OSError) as exc:  # LiveBusRefused, BacktestInputError among them
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
