"""``optbus dq``: the data-quality monitor by hand — a table, a stored row, an event on the bus."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import psycopg
from nats.errors import Error as NatsError
from rich.console import Console
from rich.table import Table

from optbus.clock import LiveClock
from optbus.events import DataQualityReported, TradeClosed
from optbus.runtime.bus import EventPublisher
from optbus.runtime.migration import BusNotMigrated, check_streams
from optbus.runtime.nats_security import connect as connect_nats
from optbus.subjects import DATA_QUALITY, stream_of
from optbus_trainer.job import UnknownRun, load_run_trades, run_quality
from optbus_trainer.quality import Thresholds
from optbus_trainer.quality_report import (
    QualityWindow,
    record_report,
    report_event,
    run_quality_check,
)
from optbus_trainer.quality_sql import latest_data_window


@dataclass(frozen=True)
class QualityOptions:
    """What ``optbus dq`` was asked: where the data and the bus are, the window, the bars."""

    database_url: str
    nats_url: str
    days: int
    thresholds: Thresholds
    publish: bool = True
    run_id: str | None = None
    """Check a stored backtest or replay run's trades instead of the live data."""


def dq_command(options: QualityOptions) -> int:
    """Print every field's coverage, store and publish the report; 1 when any field is below
    its threshold (or there is no data at all), else 0."""
    console = Console()
    clock = LiveClock()
    if options.run_id is None:
        bounds = latest_data_window(options.database_url, options.days)
        window = (
            QualityWindow.ending(clock.now_ns(), options.days)
            if bounds is None
            else QualityWindow.between(*bounds)
        )
        report = run_quality_check(options.database_url, window, options.thresholds, clock)
        title = f"data quality, last {options.days} days of data"
    else:
        try:
            trades = load_run_trades(options.database_url, options.run_id)
        except UnknownRun as exc:
            console.print(f"[red]{exc}[/red]")
            return 2
        window = _span(trades, clock.now_ns(), options.days)
        report = report_event(run_quality(trades, options.thresholds), window, clock.now_ns())
        title = f"data quality of run {options.run_id}'s {len(trades):,} trades"
    console.print(_table(report, title))
    failures = [check for check in report.checks if not check.passed]
    console.print(
        "data quality passed" if report.passed else f"data quality FAILED ({len(failures)} "
        f"fields below: {', '.join(check.name for check in failures)})"
    )  # fmt: skip
    _store(options.database_url, report, console)
    if options.publish:
        _publish(options.nats_url, report, console)
    return 0 if report.passed else 1


def _span(trades: list[TradeClosed], now_ns: int, days: int) -> QualityWindow:
    """From the first entry to just after the last exit of ``trades``."""
    if not trades:
        return QualityWindow.ending(now_ns, days)
    return QualityWindow(min(t.entry.ts for t in trades), max(t.exit.ts for t in trades) + 1)


def _table(report: DataQualityReported, title: str) -> Table:
    window = QualityWindow(report.window_start, report.window_end)
    table = Table(title=f"{title} ({window.start:%Y-%m-%d %H:%M} "
                        f".. {window.end:%Y-%m-%d %H:%M} UTC)")  # fmt: skip
    for column in ("group", "field", "coverage", "threshold", "rows", ""):
        table.add_column(column, justify="left" if column in ("group", "field") else "right")
    for c in report.checks:
        ratio = "n/a" if c.coverage is None else f"{c.coverage:.1%}"
        mark = "[green]ok[/green]" if c.passed else "[red]BELOW[/red]"
        table.add_row(c.group, c.name, ratio, f"{c.threshold:.0%}", f"{c.total:,}", mark)
    return table


def _store(database_url: str, report: DataQualityReported, console: Console) -> None:
    try:
        record_report(database_url, report)
    except psycopg.errors.UndefinedTable:
        console.print("[yellow]report not stored: run `optbus db migrate` first[/yellow]")
        return
    console.print(f"report {report.event_id} stored in data_quality_reports")


def _publish(nats_url: str, report: DataQualityReported, console: Console) -> None:
    try:
        asyncio.run(_send(nats_url, report))
    except BusNotMigrated as exc:
        console.print(f"[yellow]report not published: {exc}[/]")
        return
    except (OSError, NatsError, TimeoutError) as exc:
        console.print(f"[yellow]report not published: NATS at {nats_url} unreachable ({exc})[/]")
        return
    console.print("report published on control.dq")


async def _quiet(error: Exception) -> None:
    """Connection errors are reported once, by ``_publish``, not as tracebacks."""


async def _send(nats_url: str, report: DataQualityReported) -> None:
    nc = await connect_nats(nats_url, connect_timeout=2, max_reconnect_attempts=1, error_cb=_quiet)
    try:
        js = nc.jetstream()
        await check_streams(js, (stream_of(DATA_QUALITY),))
        await EventPublisher(lambda: js, "cli").publish(DATA_QUALITY, report)
    finally:
        await nc.close()
