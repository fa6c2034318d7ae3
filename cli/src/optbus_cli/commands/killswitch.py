"""``optbus killswitch``: halt, resume, or ask about trading, as an operator on the bus."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from optbus.events import KillSwitchCommand
from optbus.runtime.settings import DEFAULT_NATS_URL
from optbus.subjects import DEFAULT_OPERATOR
from optbus_cli.commands.options import NatsUrl

killswitch_app = typer.Typer(
    help="Halt or resume trading (the same as `nats pub control.killswitch ...`).",
    no_args_is_help=True,
)

Operator = Annotated[
    str,
    typer.Option(
        envvar="OPTBUS_OPERATOR",
        help="Who is acting: the command goes on control.killswitch.<operator>, which only that "
        "operator's NATS user may publish on (risk records that name, and checks it for a "
        f"release); {DEFAULT_OPERATOR!r} is the plain control.killswitch.",
    ),
]


@killswitch_app.command("engage")
def killswitch_engage(
    reason: Annotated[str, typer.Option(help="Why trading is halted.")],
    operator: Operator = DEFAULT_OPERATOR,
    flatten: Annotated[bool, typer.Option(help="Also close every position at market.")] = False,
    nats_url: NatsUrl = DEFAULT_NATS_URL,
) -> None:
    """Halt trading: no new positions, working orders cancelled (and with --flatten, closed)."""
    command = KillSwitchCommand(action="engage", reason=reason, operator=operator, flatten=flatten)
    _send(nats_url, command)


@killswitch_app.command("release")
def killswitch_release(
    reason: Annotated[str, typer.Option(help="Why trading may resume.")],
    operator: Operator = DEFAULT_OPERATOR,
    nats_url: NatsUrl = DEFAULT_NATS_URL,
) -> None:
    """Resume trading."""
    _send(nats_url, KillSwitchCommand(action="release", reason=reason, operator=operator))


@killswitch_app.command("status")
def killswitch_status(nats_url: NatsUrl = DEFAULT_NATS_URL) -> None:
    """Show whether trading is halted, by whom and why."""
    from optbus_cli.killswitch import describe_state

    typer.echo(asyncio.run(describe_state(nats_url)))


def _send(nats_url: str, command: KillSwitchCommand) -> None:
    """Publish the command and wait for risk to store the state asked for; exit 1 without it."""
    from optbus_cli.killswitch import send_command

    confirmation = asyncio.run(send_command(nats_url, command))
    # Said once it was published: NATS not answering is the one line of the failure instead.
    typer.echo(f"kill switch {command.action} sent by {command.operator}: {command.reason}")
    typer.echo(confirmation.detail, err=not confirmation.confirmed)
    if not confirmation.confirmed:
        raise typer.Exit(1)
