"""A replay from start to end: the bus and services up, the window published in lockstep,
and what the services emitted read back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from optbus.market import load_market_facts
from optbus.runtime.service import run_on_uvloop
from optbus_backtest.recorded_db import recorded_steps
from optbus_cli.demo import SERVICES_READY_TIMEOUT_SECONDS, state_dir
from optbus_cli.readiness import ServiceExited
from optbus_cli.replay.bus import (
    isolated_bus,
    prepare_bus,
    replay_consumers,
    service_env,
    wait_until_stored,
)
from optbus_cli.replay.options import ReplayOptions, replay_config
from optbus_cli.replay.publishing import ProgressCallback, publish_in_lockstep
from optbus_cli.replay.results import ReplayResult, clear_run, read_run_events
from optbus_cli.service_processes import ServiceProcesses, start_services
from optbus_persistence.schema import migrate
from optbus_strategy.config import load_strategies


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
        asyncio.run(prepare_bus(nats_url, replay_consumers(options)))
        log_dir = state_dir() / "logs" / options.run_id
        processes = ServiceProcesses(service_env(options, nats_url, database_url), log_dir)
        stack.callback(processes.stop_all)
        start_services(processes, timeout=SERVICES_READY_TIMEOUT_SECONDS)
        on_status(f"services up on market time (logs in {log_dir})")
        started = time.perf_counter()
        steps = recorded_steps(database_url, options.start, options.end)
        sent, count, first_ns, last_ns = run_on_uvloop(publish_in_lockstep(
            steps, nats_url, options.speed, options.settle_timeout_seconds, on_step
        ))  # fmt: skip
        wall = time.perf_counter() - started
        asyncio.run(wait_until_stored(nats_url, patience_seconds=120.0))
        if processes.failed():
            raise ServiceExited(
                f"service failed during the replay: {', '.join(processes.failed())} "
                f"(see its log in {log_dir})"
            )
    return ReplayResult(
        run_id=options.run_id, market_events=sent, steps=count, first_ts_ns=first_ns,
        last_ts_ns=last_ns, wall_seconds=wall, window=f"[{options.start}, {options.end})",
        events=read_run_events(database_url, options.run_id),
    )  # fmt: skip
