"""``optbus reconcile``: what the live broker and the event log disagree on, side by side."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from optbus.runtime.settings import DEFAULT_NATS_URL
from optbus_cli.commands.options import NatsUrl


def reconcile(
    venue: Annotated[str, typer.Option(help="The broker (default: OPTBUS_EXECUTION_VENUE).")] = "",
    nats_url: NatsUrl = DEFAULT_NATS_URL,
) -> None:
    """Print the broker's positions and open orders beside the log's where they differ;
    exit 1 when they differ, 0 when they agree."""
    from optbus_cli.reconcile import differences
    from optbus_execution.live import VenueUnusable
    from optbus_execution.reconcile import side_by_side

    chosen = venue or os.environ.get("OPTBUS_EXECUTION_VENUE", "paper")
    if chosen == "paper":
        typer.echo("the paper venue keeps no account to reconcile with")
        return
    try:
        found = asyncio.run(differences(chosen, nats_url))
    except VenueUnusable as exc:
        typer.echo(f"reconcile: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(side_by_side(found))
    if found:
        raise typer.Exit(1)
