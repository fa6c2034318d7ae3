"""``optbus demo``: every service as its own process, one simulated session, a summary."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import FrameType

import platformdirs
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from optbus import database
from optbus.clock import ReplayClock
from optbus.control import KillSwitchState
from optbus.events import OptionChainSnapshot
from optbus.market import load_market_facts
from optbus.runtime.control_state import read_kill_switch, write_first_kill_switch
from optbus.runtime.lockstep import declared_consumers
from optbus.runtime.nats_security import connect as connect_nats
from optbus.runtime.settings import DEFAULT_DATABASE_URL, DEFAULT_NATS_URL
from optbus_backtest.wiring import PIPELINE
from optbus_cli.bus_migration import migrate as migrate_bus_at
from optbus_cli.demo_summary import DemoBaseline, print_summary, read_summary
from optbus_cli.inspect_bus import BusView, nats_answers, read_bus, view_bus
from optbus_cli.killswitch import describe
from optbus_cli.servers import (
    LocalNats,
    LocalPostgres,
    create_database,
    postgres_answers,
)
from optbus_cli.service_processes import PIPELINE_SERVICES, ServiceProcesses, start_services
from optbus_cli.trading_summary import print_trading_summary, read_trading_summary
from optbus_market_data.pacing import MAX_SPEED, parse_speed
from optbus_market_data.simulator import ChainSimulator, SimulatorConfig
from optbus_persistence.schema import migrate

DRAIN_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class DemoOptions:
    """What the user asked the demo for; no ``session``: the day after the last one stored."""

    minutes: int
    speed: str
    seed: int
    session: date | None = None


class Terminated(SystemExit):
    """SIGTERM reached the demo: stop what it started, as Ctrl-C does.

    A SystemExit, so that no ``except Exception`` on the way swallows it and the stack of what
    the demo started unwinds; and not merely a BaseException, because asyncio re-raises only
    SystemExit and KeyboardInterrupt out of a task or callback: any other BaseException raised
    while the loop runs a background task (the NATS client's reader, say) ends that task alone
    and the demo would go on watching, signal lost."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(128 + signum)


def state_dir() -> Path:
    """Where the demo keeps embedded servers' data and service logs.

    ``OPTBUS_STATE_DIR`` when set; for root ``/var/lib/optbus`` (PostgreSQL runs as the
    postgres user, who cannot enter root's home); else the user's state directory.
    """
    configured = os.environ.get("OPTBUS_STATE_DIR")
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/var/lib/optbus")
    return platformdirs.user_state_path("optbus")


def _resolve_nats(stack: contextlib.ExitStack, console: Console) -> str:
    url = os.environ.get("NATS_URL", DEFAULT_NATS_URL)
    if asyncio.run(nats_answers(url)):
        console.print(f"NATS: using {url}")
        return url
    server = LocalNats(state_dir() / "nats").start()
    stack.callback(server.stop)
    console.print(f"NATS: {url} does not answer; started an embedded nats-server at {server.url}")
    return server.url


async def prepare_bus(nats_url: str) -> str:
    """The bus migrated (the services only check it), and a first kill-switch state: a fresh
    bus has none, and no state halts trading, so the demo stores a released one, as its own
    operator. A stored state (an operator's engage) is left alone."""
    await migrate_bus_at(nats_url)
    first = KillSwitchState(
        engaged=False,
        operator="optbus demo",
        reason="first start of the demo's bus",
        flatten=False,
        since_ns=time.time_ns(),
    )
    nc = await connect_nats(nats_url, connect_timeout=5)
    try:
        await write_first_kill_switch(nc.jetstream(), first)
        return describe(await read_kill_switch(nc.jetstream()))
    finally:
        await nc.close()


def _admin_url(database_url: str) -> str:
    base, _, _ = database_url.rpartition("/")
    return f"{base}/postgres"


def _resolve_database(console: Console) -> str:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if postgres_answers(_admin_url(url)):
        create_database(_admin_url(url), url.rpartition("/")[2].split("?")[0])
        console.print(f"PostgreSQL: using {url}")
        return url
    data_dir = state_dir() / "postgres"
    server = LocalPostgres(data_dir, port=int(os.environ.get("OPTBUS_LOCAL_PG_PORT", "55432")))
    if not postgres_answers(server.admin_url):
        server.start()
    create_database(server.admin_url, "optbus")
    console.print(
        f"PostgreSQL: {url} does not answer; a local server runs at {server.url('optbus')} "
        f"(data in {data_dir}; it stays up so you can query it; stop it with "
        f"`pg_ctl -D {data_dir} stop`)"
    )
    return server.url("optbus")


def _next_session_date(database_url: str) -> date:
    """The trading day after the last one stored, so that every demo adds a new session."""
    facts = load_market_facts()
    with database.connect(database_url) as conn:
        row = conn.execute(
            "SELECT max(time) FROM events WHERE run_id = 'live' AND type = 'md.chain'"
        ).fetchone()
    last = row[0] if row else None
    if last is not None:
        return facts.next_trading_day(last.date())
    return facts.trading_day_from(datetime.now(facts.timezone).date())


REAL_TIME_INTENT_AGE_MS = 5_000
SERVICES_READY_TIMEOUT_SECONDS = 180.0
"""Long enough for greeks to compile its kernels on a busy two-core machine."""


def _speed_settings(service: str, speed: str) -> dict[str, str]:
    """An intent's age limit is in market time: at N x real time it must be N x as long."""
    if service != "risk":
        return {}
    factor = 3_600.0 if parse_speed(speed) == MAX_SPEED else max(1.0, parse_speed(speed))
    return {"OPTBUS_RISK_MAX_INTENT_AGE_MS": str(int(REAL_TIME_INTENT_AGE_MS * factor))}


def _chains_per_step(session: date) -> int:
    """How many chains the simulator quotes at each step of ``session``."""
    simulator = ChainSimulator(
        SimulatorConfig(start_date=session), load_market_facts(), ReplayClock()
    )
    first_step = next(simulator.ticks())
    return sum(isinstance(event, OptionChainSnapshot) for event in first_step)


def _pipeline_drained(view: BusView) -> bool:
    relevant = [c for c in view.consumers if c.stream in ("MD", "ANALYTICS", "TRADING", "DLQ")]
    return bool(relevant) and all(c.caught_up for c in relevant)


async def _watch(
    processes: ServiceProcesses, nats_url: str, baseline: DemoBaseline, steps: int, console: Console
) -> bool:
    """Show progress until the session is played and every consumer caught up."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
    )
    nc = await connect_nats(nats_url, connect_timeout=3)
    try:
        with Progress(*columns, console=console) as progress:
            total = steps * baseline.chains_per_step
            published = progress.add_task("snapshots published", total=total)
            priced = progress.add_task("chains priced", total=total)
            deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
            while time.monotonic() < deadline:
                if processes.failed():
                    console.print(f"[red]service failed: {', '.join(processes.failed())}[/red]")
                    return False
                view = await view_bus(nc.jetstream())
                progress.update(
                    published, completed=view.chain_snapshots - baseline.chain_snapshots
                )
                progress.update(
                    priced, completed=view.last_seq("ANALYTICS") - baseline.analytics_seq
                )
                if processes.processes["market-data"].poll() == 0 and _pipeline_drained(view):
                    return True
                await asyncio.sleep(0.5)
    finally:
        await nc.close()
    console.print("[red]the pipeline did not drain in time[/red]")
    return False


def run_demo(options: DemoOptions) -> int:
    """Run the demo; returns the process exit status.

    SIGTERM (``timeout``, ``kill``, a process manager) stops every service the demo started,
    as Ctrl-C does, before it exits 143."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _run_demo(options)
    except Terminated:
        Console(stderr=True).print("[yellow]terminated: the services it started are stopped[/]")
        return 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_demo(options: DemoOptions) -> int:
    console = Console()
    with contextlib.ExitStack() as stack:
        nats_url = _resolve_nats(stack, console)
        database_url = _resolve_database(console)
        mode = migrate(database_url)
        console.print(f"storage: {mode.description}")
        console.print(asyncio.run(prepare_bus(nats_url)))
        session = options.session or _next_session_date(database_url)
        run_id = f"demo-{session:%Y%m%d}-{uuid.uuid4().hex[:8]}"
        view = asyncio.run(read_bus(nats_url))
        baseline = DemoBaseline.take(view, session, _chains_per_step(session))
        env = os.environ | {"NATS_URL": nats_url, "DATABASE_URL": database_url}
        log_dir = state_dir() / "logs" / run_id
        processes = ServiceProcesses(env, log_dir)
        stack.callback(processes.stop_all)
        console.print(f"starting the services (logs in {log_dir})")
        speed_env = {name: _speed_settings(name, options.speed) for name in PIPELINE_SERVICES}
        start_services(processes, SERVICES_READY_TIMEOUT_SECONDS, speed_env)
        console.print(
            f"playing {options.minutes} trading minutes of {session} at speed {options.speed}, "
            f"each event once the services handled the one before (run {run_id})"
        )
        lockstep = [[c.stream, c.name, c.filter_subject] for c in declared_consumers(PIPELINE)]
        processes.start("market-data", {
            "OPTBUS_MARKET_DATA_SEED": str(options.seed),
            "OPTBUS_MARKET_DATA_RUN_ID": run_id,
            "OPTBUS_MARKET_DATA_START_DATE": session.isoformat(),
            "OPTBUS_MARKET_DATA_MINUTES": str(options.minutes),
            "OPTBUS_MARKET_DATA_SPEED": options.speed,
            "OPTBUS_MARKET_DATA_EXIT_WHEN_DONE": "true",
            "OPTBUS_MARKET_DATA_LOCKSTEP_CONSUMERS": json.dumps(lockstep),
        })  # fmt: skip
        ok = asyncio.run(_watch(processes, nats_url, baseline, options.minutes * 60, console))
        processes.stop_all()
        summary = read_summary(database_url, asyncio.run(read_bus(nats_url)), baseline)
        print_summary(summary, console)
        print_trading_summary(read_trading_summary(database_url, session), console)
        console.print(f"data left in {database_url}; try: optbus status")
    return 0 if ok and summary.healthy else 1
