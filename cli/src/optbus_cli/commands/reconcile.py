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
    adopt: Annotated[
        bool, typer.Option(help="Make the broker's positions the log's (audited; needs --reason).")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why the broker's state is adopted.")] = "",
    operator: Annotated[str, typer.Option(envvar="USER", help="Who adopts (audit).")] = "operator",
    nats_url: NatsUrl = DEFAULT_NATS_URL,
) -> None:
    """Print the broker's positions and open orders beside the log's where they differ;
    exit 1 when they differ, 0 when they agree. With --adopt, publish the audited event that
    makes the broker's positions the log's (then release the kill switch)."""
    from optbus_cli.reconcile import adopt as publish_adoption
    from optbus_cli.reconcile import compare
    from optbus_execution.live import VenueUnusable
    from optbus_execution.reconcile import side_by_side

    chosen = venue or os.environ.get("OPTBUS_EXECUTION_VENUE", "paper")
    if adopt and not reason:
        typer.echo("reconcile: --adopt needs --reason (it is audited)", err=True)
        raise typer.Exit(2)
    if chosen == "paper":
        typer.echo("the paper venue keeps no account to reconcile with")
        return
    try:
        comparison = asyncio.run(compare(chosen, nats_url))
    except VenueUnusable as exc:
        typer.echo(f"reconcile: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(side_by_side(comparison.differences))
    if adopt:
        audit = (operator, reason, chosen)
        event_id = asyncio.run(publish_adoption(comparison, audit, nats_url))
        typer.echo(f"adopted the broker's positions as {operator} (event {event_id})")
    elif comparison.differences:
        raise typer.Exit(1)
