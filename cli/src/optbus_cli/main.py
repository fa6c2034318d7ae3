"""The ``optbus`` command: every subcommand, one module per group in ``optbus_cli.commands``,
registered onto the one application the entry point runs.

The command modules import what their commands run only when they run, so that ``optbus
--help`` and ``optbus run <service>`` load no more than they need.
"""

from __future__ import annotations

import os

import typer

from optbus_cli.commands.backtest import backtest
from optbus_cli.commands.bus import bus_app
from optbus_cli.commands.db import db_app
from optbus_cli.commands.imports import import_app
from optbus_cli.commands.iv_rank import iv_rank
from optbus_cli.commands.killswitch import killswitch_app
from optbus_cli.commands.price import price
from optbus_cli.commands.reconcile import reconcile
from optbus_cli.commands.replay import replay
from optbus_cli.commands.services import run
from optbus_cli.commands.simulation import demo, export
from optbus_cli.commands.status import status
from optbus_cli.commands.term_structure import term_structure
from optbus_cli.commands.training import dataset, dq, train

app = typer.Typer(
    name="optbus",
    help="optbus: event-sourced options trading for Indian index options over NATS JetStream.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(bus_app, name="bus")
app.add_typer(import_app, name="import")
app.add_typer(killswitch_app, name="killswitch")
for command in (
    run,
    status,
    price,
    export,
    demo,
    backtest,
    replay,
    train,
    dq,
    dataset,
    iv_rank,
    term_structure,
    reconcile,
):
    app.command()(command)


def main() -> None:
    """The entry point: the application, with any failure said in one line (docs/operations.md).

    ``OPTBUS_DEBUG=1`` lets the failure through with its traceback.
    """
    try:
        app()
    except Exception as error:
        if os.environ.get("OPTBUS_DEBUG"):
            raise
        from optbus.urls import masked_text
        from optbus_cli.failures import explain

        code, line = explain(error)
        typer.echo(f"optbus: {masked_text(line)}", err=True)
        raise SystemExit(code) from None


if __name__ == "__main__":
    main()
