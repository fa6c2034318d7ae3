"""``optbus replay``: a recorded window through the real services, on a bus of its own.

The run gets an isolated NATS server (its own embedded one unless ``--target-nats-url``
names another; never the live bus), the trading services as processes on market time
(``OPTBUS_CLOCK=market``), and a persistence service that stores what they emit in the
live database under the run id. The recorded market events are published in lockstep: each
one after everything the previous one caused was handled, as the in-process backtest
delivers them, so both give the same trades.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec
import nats
import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from optbus.codec import Decoder, encode
from optbus.control import RELEASED
from optbus.events import BusEvent, Event
from optbus.market import load_market_facts
from optbus.routing import subject_of
from optbus.runtime.bus import ensure_streams
from optbus.runtime.control_state import write_kill_switch
from optbus.runtime.service import run_on_uvloop
from optbus.runtime.settings import DEFAULT_NATS_URL
from optbus_backtest.config import BACKTEST_ALGO_ID, BacktestConfig
from optbus_backtest.console import market_time
from optbus_backtest.options import config_json
from optbus_backtest.recorded_db import recorded_steps
from optbus_backtest.results import RunResults
from optbus_backtest.runner import write_run_files
from optbus_backtest.sources import database_steps
from optbus_backtest.store import RunRecord, store_run
from optbus_backtest.tradelog import TradeLog, canonical_sha256
from optbus_backtest.wiring import risk_config
from optbus_cli.demo import PIPELINE_SERVICES, ServiceProcesses, state_dir
from optbus_cli.inspect_bus import view_bus
from optbus_cli.lockstep import Lockstep, watched_consumers
from optbus_cli.servers import LocalNats, free_port
from optbus_cli.tables import figures_table
from optbus_market_data.pacing import Speed, wait_seconds
from optbus_persistence.schema import migrate
from optbus_strategy.config import load_strategies

PERSISTENCE_PREFIX = "persistence-"
RESULT_STREAMS = ("TRADING", "CONTROL", "DLQ")
"""What a replay stores by default: what the services decided. The greeks chains are left
out (``persist_chains``): the replay recomputes them from market data already stored."""

_decoder: Decoder[Event] = Decoder(BusEvent)  # type: ignore[arg-type]
_RUN_EVENTS = (
    "SELECT payload::text FROM events WHERE run_id = %s AND stream = ANY(%s) ORDER BY stream, seq"
)

ProgressCallback = Callable[[int, int], None]
"""Called after each market step with how many events were sent and the market time (ns)."""


class LiveBusRefused(ValueError):
    """A replay was pointed at the live bus, which it must never publish onto."""


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """What to replay, how fast, under which run id, and onto which isolated bus."""

    start: datetime
    end: datetime
    run_id: str
    speed: Speed
    target_nats_url: str | None = None
    live_nats_url: str = DEFAULT_NATS_URL
    persist_chains: bool = False
    strategies_file: Path | None = None
    settle_timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not self.run_id or self.run_id == "live":
            raise ValueError(f"a replay needs a run id of its own, not {self.run_id!r}")
        if self.end <= self.start:
            raise ValueError(f"--to ({self.end}) must be after --from ({self.start})")
        if self.target_nats_url is not None and self.target_nats_url == self.live_nats_url:
            raise LiveBusRefused(
                "refusing to replay onto the live bus: give an isolated --target-nats-url "
                "or none (the replay then starts a NATS server of its own)"
            )


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a replay did: how much it sent, how fast, and what the services emitted."""

    run_id: str
    market_events: int
    steps: int
    first_ts_ns: int
    last_ts_ns: int
    wall_seconds: float
    window: str
    events: list[Event]

    @property
    def market_seconds(self) -> float:
        """The span of market time replayed, in seconds."""
        return (self.last_ts_ns - self.first_ts_ns) / 1e9


def clear_run(database_url: str, run_id: str) -> int:
    """Delete what an earlier replay stored under ``run_id``; returns how many rows."""
    with psycopg.connect(database_url) as conn:
        return conn.execute("DELETE FROM events WHERE run_id = %s", (run_id,)).rowcount


def read_run_events(database_url: str, run_id: str) -> list[Event]:
    """What the services of a replay emitted, stream by stream in stream order."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(_RUN_EVENTS, (run_id, list(RESULT_STREAMS))).fetchall()
    return [_decoder.decode(row[0]) for row in rows]


async def _prepare_bus(nats_url: str) -> None:
    """Streams in memory, and the kill switch released: a replay must not start halted."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        await ensure_streams(js, ephemeral=True)
        await write_kill_switch(js, RELEASED)
    finally:
        await nc.close()


def _service_env(options: ReplayOptions, nats_url: str, database_url: str) -> dict[str, str]:
    streams = [*RESULT_STREAMS, *(["ANALYTICS"] if options.persist_chains else [])]
    strategies = replay_config(options).strategies_file
    return os.environ | {
        "OPTBUS_STRATEGY_STRATEGIES_FILE": str(strategies),
        "NATS_URL": nats_url,
        "DATABASE_URL": database_url,
        "OPTBUS_CLOCK": "market",
        "OPTBUS_PERSISTENCE_RUN_ID": options.run_id,
        "OPTBUS_PERSISTENCE_STREAMS": msgspec.json.encode(streams).decode(),
        "OPTBUS_EXECUTION_ALGO_ID": BACKTEST_ALGO_ID,
    }


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(200 <= answer.status < 300)
    except OSError:
        return False


def _start_services(processes: ServiceProcesses, timeout: float) -> None:
    """Start every service and wait until each serves ``/healthz`` (its consumers exist)."""
    ports = {name: free_port() for name in PIPELINE_SERVICES}
    for name, port in ports.items():
        variable = f"OPTBUS_{name.upper().replace('-', '_')}_HTTP_PORT"
        processes.start(name, {variable: str(port)})
    deadline = time.monotonic() + timeout
    waiting = dict(ports)
    while waiting:
        if processes.failed():
            raise RuntimeError(f"service failed to start: {', '.join(processes.failed())}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"services not ready after {timeout:.0f} s: {sorted(waiting)}")
        waiting = {name: port for name, port in waiting.items() if not _healthy(port)}
        time.sleep(0.2)


def _restamped(event: Event) -> Event:
    """The market event at replay time: ``ts_init`` from the replay clock, its ``ts_event``."""
    return msgspec.structs.replace(event, ts_init=event.ts_event)


async def read_ahead(steps: Iterable[list[Event]], depth: int = 256) -> AsyncIterator[list[Event]]:
    """``steps``, read and decoded in a thread ahead of the loop that publishes them."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[Event] | BaseException | None] = asyncio.Queue()
    room = threading.Semaphore(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for step in steps:
                room.acquire()
                if stop.is_set():
                    return
                loop.call_soon_threadsafe(queue.put_nowait, step)
        except BaseException as exc:  # handed to the consuming loop, which raises it
            loop.call_soon_threadsafe(queue.put_nowait, exc)
            return
        loop.call_soon_threadsafe(queue.put_nowait, None)

    producer = loop.run_in_executor(None, produce)
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            room.release()
            yield item
    finally:
        stop.set()
        room.release()
        await producer


async def publish_in_lockstep(
    steps: Iterable[list[Event]],
    nats_url: str,
    speed: Speed,
    settle_timeout: float,
    on_step: ProgressCallback | None = None,
) -> tuple[int, int, int, int]:
    """Publish each event once all the previous one caused is handled.

    Returns (events, steps, first and last market time in ns).
    """
    nc = await nats.connect(nats_url, connect_timeout=5)
    sent = count = first_ns = last_ns = 0
    previous_ns: int | None = None
    try:
        lockstep = Lockstep(
            await watched_consumers(nc.jetstream(), ignore_prefixes=[PERSISTENCE_PREFIX])
        )
        await lockstep.watch(nc)
        async for step in read_ahead(steps):
            if not step:
                continue
            delay = wait_seconds(speed, previous_ns, step[0].ts_event)
            if delay > 0:
                await asyncio.sleep(delay)
            for event in step:
                lockstep.expect(event.event_id)
                await nc.publish(
                    subject_of(event), encode(_restamped(event)),
                    headers={"Nats-Msg-Id": event.event_id},
                )  # fmt: skip
                await lockstep.settled(settle_timeout)
            sent += len(step)
            count += 1
            previous_ns = last_ns = step[0].ts_event
            first_ns = first_ns or previous_ns
            if on_step is not None:
                on_step(sent, previous_ns)
        await lockstep.stop()
    finally:
        await nc.close()
    return sent, count, first_ns, last_ns


async def wait_until_stored(nats_url: str, patience_seconds: float) -> None:
    """Wait until the persistence service has acked everything on the replay bus, on every
    stream it stores (the chains too with ``persist_chains``)."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        deadline = time.monotonic() + patience_seconds
        while time.monotonic() < deadline:
            consumers = (await view_bus(js)).consumers
            stored = [c for c in consumers if c.name.startswith(PERSISTENCE_PREFIX)]
            if stored and all(c.caught_up for c in stored):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"persistence did not store the run within {patience_seconds:.0f} s")
    finally:
        await nc.close()


@contextlib.contextmanager
def isolated_bus(options: ReplayOptions) -> Iterator[str]:
    """The replay's bus: the one named, or an embedded nats-server for the run's lifetime."""
    if options.target_nats_url is not None:
        yield options.target_nats_url
        return
    with tempfile.TemporaryDirectory(prefix=f"optbus-replay-{options.run_id}-") as directory:
        server = LocalNats(Path(directory)).start()
        try:
            yield server.url
        finally:
            server.stop()


def run_replay(
    options: ReplayOptions,
    database_url: str,
    on_step: ProgressCallback | None = None,
    on_status: Callable[[str], None] = lambda _: None,
) -> ReplayResult:
    """Replay ``options``' window from ``database_url`` through the services, in lockstep."""
    load_strategies(replay_config(options).strategies_file, facts=load_market_facts())
    migrate(database_url)
    cleared = clear_run(database_url, options.run_id)
    if cleared:
        on_status(f"replacing run {options.run_id}: {cleared:,} stored events deleted")
    with isolated_bus(options) as nats_url, contextlib.ExitStack() as stack:
        on_status(f"replay bus: {nats_url}")
        asyncio.run(_prepare_bus(nats_url))
        log_dir = state_dir() / "logs" / options.run_id
        processes = ServiceProcesses(_service_env(options, nats_url, database_url), log_dir)
        stack.callback(processes.stop_all)
        _start_services(processes, timeout=60.0)
        on_status(f"services up on market time (logs in {log_dir})")
        started = time.perf_counter()
        steps = recorded_steps(database_url, options.start, options.end)
        sent, count, first_ns, last_ns = run_on_uvloop(publish_in_lockstep(
            steps, nats_url, options.speed, options.settle_timeout_seconds, on_step
        ))  # fmt: skip
        wall = time.perf_counter() - started
        asyncio.run(wait_until_stored(nats_url, patience_seconds=120.0))
        if processes.failed():
            raise RuntimeError(f"service failed during the replay: {processes.failed()}")
    return ReplayResult(
        run_id=options.run_id, market_events=sent, steps=count, first_ts_ns=first_ns,
        last_ts_ns=last_ns, wall_seconds=wall, window=f"[{options.start}, {options.end})",
        events=read_run_events(database_url, options.run_id),
    )  # fmt: skip


def replay_config(options: ReplayOptions) -> BacktestConfig:
    """The settings the replay's services run with, as a backtest configuration says them."""
    if options.strategies_file is None:
        return BacktestConfig(run_id=options.run_id)
    return BacktestConfig(run_id=options.run_id, strategies_file=options.strategies_file)


def finish_replay(
    options: ReplayOptions, result: ReplayResult, database_url: str, out_dir: Path
) -> ReplayFiles:
    """Write the replay's trade log, report and figures, and store it as a run."""
    config = replay_config(options)
    log = TradeLog()
    for event in result.events:
        log.record(subject_of(event), event)
    files = write_run_files(out_dir, result.run_id, log, risk_config(config).capital)
    record = RunRecord(
        run_id=result.run_id,
        source=f"bus replay of the database window {result.window}",
        config_json=config_json(config),
        trade_log_sha256=canonical_sha256(log.events),
        results=files.results,
    )
    stored = store_run(database_url, record, store=True)
    return ReplayFiles(
        files.trade_log, files.report, files.figures, stored, record.trade_log_sha256,
        files.results,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReplayFiles:
    """Where a replay's results went, and its canonical trade-log hash."""

    trade_log: Path
    report: Path
    figures: Path
    stored: str
    trade_log_sha256: str
    results: RunResults


def replay_command(
    options: ReplayOptions, database_url: str, out_dir: Path, console: Console | None = None
) -> ReplayFiles:
    """Run a replay with a progress bar, then print its figures and where its results are."""
    console = console or Console()
    # Only the count and the backtest's checks of the window: run_replay reads the steps.
    _, total = database_steps(database_url, (options.start, options.end))
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[market]}"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(options.run_id, total=total, market="")

        def on_step(sent: int, now_ns: int) -> None:
            progress.update(task, advance=1, market=market_time(now_ns))

        result = run_replay(options, database_url, on_step, on_status=console.print)
    files = finish_replay(options, result, database_url, out_dir)
    console.print(replay_table(result, files))
    console.print(f"trade log: {files.trade_log}")
    console.print(f"report: {files.report} (figures as JSON: {files.figures})")
    console.print(files.stored)
    return files


def replay_table(result: ReplayResult, files: ReplayFiles) -> Table:
    """The figures of a replay as a two-column table."""
    figures = files.results
    pace = result.market_seconds / result.wall_seconds if result.wall_seconds else 0.0
    return figures_table(f"replay {result.run_id}", [
        ("market steps / events", f"{result.steps:,} / {result.market_events:,}"),
        ("events the services emitted (stored)", f"{len(result.events):,}"),
        ("closed trades", f"{figures.trades}"),
        ("gross P&L", f"₹{figures.gross_pnl:,.2f}"),
        ("charges", f"₹{figures.charges:,.2f}"),
        ("net P&L", f"₹{figures.net_pnl:,.2f}"),
        ("trade-log sha256 (canonical)", files.trade_log_sha256),
        ("speed", f"{pace:,.0f}x real time ({result.wall_seconds:.1f} s)"),
    ])  # fmt: skip
