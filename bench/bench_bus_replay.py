"""Bus replay of the full trading day of bench_backtest: through the service processes.

Issue 5's target: at least 100x real time on this machine. The day is simulated, stored in a
scratch database as the live system stores market data, then ``optbus replay`` runs it in
lockstep through the greeks, strategy, risk, execution and persistence processes on an
embedded nats-server. References measured or fixed in the same run: the 100x target and
the in-process backtest of the same window (its multiple of real time). Beside them, the CPU
the replay's processes (this one, the services, nats-server) used per market second once up,
against the goal of 12 ms, in all and per process (also printed), and the ceiling that puts
on the multiple with this machine's cores even if every core were busy all the time.
PostgreSQL's share is not counted.
"""

from __future__ import annotations

import os
import resource
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _records import Record, record

from optbus.codec import encode
from optbus.market import load_market_facts
from optbus.routing import subject_of
from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_backtest.config import BacktestConfig
from optbus_backtest.engine import run_backtest
from optbus_backtest.recorded_db import recorded_steps
from optbus_backtest.sources import first, simulator
from optbus_cli.replay.job import run_replay
from optbus_cli.replay.options import ReplayOptions
from optbus_cli.servers import create_database
from optbus_market_data.pacing import MAX_SPEED
from optbus_persistence.rows import BusMessage, decode_stored
from optbus_persistence.schema import migrate
from optbus_persistence.store import EventStore

TARGET_MULTIPLE = 100.0
TARGET_CPU_SECONDS_PER_MARKET_SECOND = 0.012
"""Issue 17's goal for every replay process together: the 2 cores then allow ~165x."""
DAY = date(2026, 12, 2)
_WRITE_BATCH = 2_000


def _scratch_database() -> str:
    """A fresh scratch database, ``OPTBUS_BENCH_REPLAY_DATABASE`` if set: two checkouts
    compared side by side (the only fair comparison on a shared machine) each need their own,
    with their own ``OPTBUS_STATE_DIR`` for the service logs."""
    base = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL).rpartition("/")[0]
    name = os.environ.get("OPTBUS_BENCH_REPLAY_DATABASE", "optbus_bench_replay")
    create_database(f"{base}/postgres", name, fresh=True)
    return f"{base}/{name}"


def _record_session(database_url: str, steps: int) -> None:
    facts = load_market_facts()
    events = [e for step in first(simulator(seed=11, start_date=DAY, days=1, facts=facts)
                                  .ticks(), steps) for e in step]  # fmt: skip
    migrate(database_url)
    store = EventStore(database_url)
    for start in range(0, len(events), _WRITE_BATCH):
        chunk = events[start : start + _WRITE_BATCH]
        store.write([
            decode_stored(BusMessage("MD", seq, subject_of(e), encode(e), e.ts_event, None))
            for seq, e in enumerate(chunk, start=start + 1)
        ])  # fmt: skip
    store.close()


def _reaped_cpu_seconds() -> float:
    """CPU used so far by this process and its children that have exited and been waited for."""
    return sum(usage.ru_utime + usage.ru_stime for usage in
               (resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN)))  # fmt: skip


def _children() -> dict[int, str]:
    """This process's running children (Linux ``/proc``), each named by what it runs: a
    service by its name, the bus as ``nats-server``."""
    named = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != os.getpid():
                continue
            argv = (stat.parent / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        named[int(stat.parent.name)] = argv[-2] if "run" in argv else Path(argv[0]).name
    return named


def _cpu_seconds_of(pid: int) -> float:
    """CPU used so far by the running process ``pid`` (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_PUBLISHER = "replay (publisher)"
_SAMPLE_EVERY_STEPS = 50


class _CpuFromFirstStep:
    """The CPU the replay's processes use once they are up: counted from the first market
    step (the services' start-up left out) to the end; and per process, sampled every
    ``_SAMPLE_EVERY_STEPS`` steps while they run (a process's own figure is gone once it
    exits), over the market seconds between the first sample and the last."""

    def __init__(self) -> None:
        self._at_first_step: float | None = None
        self._children: dict[int, str] = {}
        self._steps = 0
        self._first: tuple[int, dict[str, float]] | None = None
        self._last: tuple[int, dict[str, float]] | None = None

    def on_step(self, sent: int, now_ns: int) -> None:
        if self._at_first_step is None:
            self._children = _children()
            self._at_first_step = _reaped_cpu_seconds() + sum(
                _cpu_seconds_of(pid) for pid in self._children
            )
            self._first = (now_ns, self._by_process())
        elif self._steps % _SAMPLE_EVERY_STEPS == 0:
            self._last = (now_ns, self._by_process())
        self._steps += 1

    def _by_process(self) -> dict[str, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {name: _cpu_seconds_of(pid) for pid, name in self._children.items()} | {
            _PUBLISHER: own.ru_utime + own.ru_stime
        }

    def since_first_step(self) -> float:
        assert self._at_first_step is not None, "the replay sent nothing"
        return _reaped_cpu_seconds() - self._at_first_step

    def per_market_second_by_process(self) -> dict[str, float]:
        """Each process's CPU seconds per market second between the first and last sample."""
        assert self._first is not None, "the replay sent nothing"
        assert self._last is not None, "too short to sample"
        (first_ns, first), (last_ns, last) = self._first, self._last
        return {name: (last[name] - first[name]) * 1e9 / (last_ns - first_ns) for name in first}


def run(scale: float) -> list[Record]:
    """The day (a fraction of it with ``scale`` < 1) over the bus, and in process beside it."""
    facts = load_market_facts()
    steps_in_day = int((facts.session_close_ns(DAY) - facts.session_open_ns(DAY)) / 1e9)
    database_url = _scratch_database()
    _record_session(database_url, max(600, int(steps_in_day * scale)))
    window = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    options = ReplayOptions(start=window, end=window + timedelta(days=1),
                            run_id="bench-bus-replay", speed=MAX_SPEED)  # fmt: skip
    cpu = _CpuFromFirstStep()
    replayed = run_replay(options, database_url, on_step=cpu.on_step)
    cpu_per_market_second = cpu.since_first_step() / replayed.market_seconds
    cores = os.cpu_count() or 1
    bus_multiple = replayed.market_seconds / replayed.wall_seconds
    started = time.perf_counter()
    in_process = run_backtest(
        recorded_steps(database_url, options.start, options.end),
        BacktestConfig(run_id="bench-bus-replay"),
        facts=facts,
    )
    in_process_multiple = in_process.market_seconds / (time.perf_counter() - started)
    by_process = cpu.per_market_second_by_process()
    for name, seconds in sorted(by_process.items(), key=lambda item: -item[1]):
        print(f"  {name:<20} {seconds * 1e3:6.2f} ms CPU per market second")
    return [
        record("bus_replay_multiple_of_real_time", bus_multiple, "x real time",
               "target", TARGET_MULTIPLE),
        record("bus_replay_vs_in_process_same_window", bus_multiple, "x real time",
               "in-process backtest of the same window", in_process_multiple),
        record("bus_replay_seconds_per_day", replayed.wall_seconds * steps_in_day
               / max(1, replayed.steps), "s", "a day at 100x", steps_in_day / TARGET_MULTIPLE),
        record("bus_replay_cpu_seconds_per_market_second", cpu_per_market_second, "CPU s",
               "target", TARGET_CPU_SECONDS_PER_MARKET_SECOND),
        *(record(f"bus_replay_cpu_seconds_per_market_second_{name.split()[0]}", seconds,
                 "CPU s", "target for all processes together",
                 TARGET_CPU_SECONDS_PER_MARKET_SECOND)
          for name, seconds in sorted(by_process.items())),
        record("bus_replay_cpu_bound_ceiling", cores / cpu_per_market_second, "x real time",
               "target", TARGET_MULTIPLE),
    ]  # fmt: skip
