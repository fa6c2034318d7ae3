"""``optbus run``: one service in the foreground, as its container runs it."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Annotated

import typer

SERVICES: dict[str, str] = {
    "market-data": "optbus_market_data.main",
    "greeks": "optbus_greeks.main",
    "strategy": "optbus_strategy.main",
    "risk": "optbus_risk.main",
    "execution": "optbus_execution.main",
    "persistence": "optbus_persistence.main",
    "trainer": "optbus_trainer.main",
}
"""Each service's name on the command line (its topology's, in ``optbus_cli.topologies``
order: a test checks they agree), and the module whose ``main()`` runs it (imported only when
asked for, so one service's start does not load the others)."""


def run(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}.")],
) -> None:
    """Run one service in the foreground (configured from the environment)."""
    if service not in SERVICES:
        typer.echo(f"unknown service {service!r}; choose one of: {', '.join(SERVICES)}", err=True)
        raise typer.Exit(2)
    service_main: Callable[[], None] = import_module(SERVICES[service]).main
    service_main()
