"""``optbus status``: streams, consumers and their lag, and what the database holds."""

from __future__ import annotations

import psycopg
from rich.console import Console
from rich.table import Table

from optbus import database
from optbus.urls import masked_text, shown_url
from optbus_cli.inspect_bus import nats_answers, read_bus, table_counts
from optbus_cli.killswitch import describe_state
from optbus_cli.positions_view import circuit_breaker_lines, positions_table


async def print_status(nats_url: str, database_url: str) -> bool:
    """Print the state of the bus and the database as tables; False when either did not answer.

    URLs are shown with their passwords masked."""
    console = Console()
    nats_answered = await nats_answers(nats_url)
    if nats_answered:
        console.print(await describe_state(nats_url))
        view = await read_bus(nats_url)
        streams = Table(title=f"Streams at {shown_url(nats_url)}")
        for column in ("stream", "messages", "bytes", "last seq"):
            streams.add_column(column, justify="right" if column != "stream" else "left")
        for s in view.streams:
            streams.add_row(s.name, f"{s.messages:,}", f"{s.bytes:,}", f"{s.last_seq:,}")
        console.print(streams)
        consumers = Table(title="Consumers")
        for column in ("stream", "consumer", "lag (pending)", "awaiting ack", "redelivered"):
            consumers.add_column(column)
        for c in view.consumers:
            consumers.add_row(c.stream, c.name, f"{c.pending:,}", f"{c.ack_pending:,}",
                              f"{c.redelivered:,}")  # fmt: skip
        console.print(consumers)
    else:
        console.print(f"[red]NATS does not answer at {shown_url(nats_url)}[/red]")
    try:
        counts = table_counts(database_url)
    except psycopg.Error as exc:
        reason = masked_text(str(exc).strip().splitlines()[0])
        console.print(f"[red]database unreachable at {shown_url(database_url)}: {reason}[/red]")
        return False
    rows = Table(title="Database")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for table, count in counts.items():
        rows.add_row(table, f"{count:,}")
    if not counts:
        console.print("[yellow]no optbus schema: run `optbus db migrate`[/yellow]")
        return nats_answered
    console.print(rows)
    with database.connect(database_url) as conn:
        console.print(positions_table(conn))
        trips = circuit_breaker_lines(conn)
    console.print("\n".join(trips) if trips else "circuit breaker: not tripped")
    return nats_answered
