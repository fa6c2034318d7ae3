"""Tick to order at real-time pacing: from an ``md.chain`` publish to its ``OrderAccepted``.

Issue 17's target: p99 under 5 ms. The pipeline runs as in production, each service its own
process (persistence, greeks, strategy, risk, execution with the paper venue) on a nats-server
of its own and a fresh database, while market-data publishes a simulated session at real time
(one snapshot per underlying and expiry per second) for 5 minutes (``scale`` 0.1: 30 s). The
strategies (tick_to_order_strategies.toml) enter and exit within seconds, so the window
carries hundreds of orders; risk's circuit breaker, which would halt them after five losing
round trips, is lifted.

Every figure comes from the bus afterwards, so the measure costs the pipeline nothing: each
order accepted is traced back through its order, risk decision and strategy intent to the
chain it was decided on (the intent's legs name the chain's underlying and expiry, and it
carries the chain's ``ts_event``), and each hop is timed by JetStream's storage timestamp of
the message it published; the start is the ``md.chain``'s ``ts_init``, stamped when the source
releases it. All clocks are this machine's.

Reference, measured in the same window against the same server: a bare nats-py request/reply
round trip between two processes (probed 20 times a second while the pipeline trades, so it
meets the same contention for the CPUs), times the five hops after the chain is stored. A hop
is a delivery to the next process and a publish from it that the server stores: about one
round trip through the server, so this is what the services would take with no work of their
own. Beside them, the CPU each service process used per second of the window, and the
machine's load average over its last five minutes (other work on a shared machine is what
the hops mostly wait for).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import msgspec
import nats
import numpy as np
from _records import Record, record
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from optbus.runtime.settings import DEFAULT_DATABASE_URL
from optbus_cli.demo import prepare_bus
from optbus_cli.servers import LocalNats, create_database
from optbus_cli.service_processes import ServiceProcesses, start_services
from optbus_persistence.schema import migrate
from optbus_risk.config import DEFAULT_CONFIG_PATH as RISK_CONFIG

DAY = date(2026, 12, 2)
SECONDS_AT_SCALE_1 = 300
STRATEGIES = Path(__file__).resolve().parent / "tick_to_order_strategies.toml"
SERVICES_READY_TIMEOUT_SECONDS = 300.0
SETTLE_SECONDS = 5.0
PROBE_GAP_SECONDS = 0.05
"""The bare round trip is probed 20 times a second while the pipeline trades."""
HOPS = (
    "md.chain stored",
    "greeks.chain",
    "strategy.intent",
    "risk.decision",
    "exec.order.new",
    "exec.order.accepted",
)
"""Where each hop ends, in order: the first starts at the md.chain's publish (its ``ts_init``),
and is JetStream storing it; each other hop ends when JetStream stored what it published."""

_RESPONDER = """
import asyncio, sys
import nats

async def main():
    nc = await nats.connect(sys.argv[1])
    async def echo(msg):
        await msg.respond(msg.data)
    await nc.subscribe("bench.echo", cb=echo)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


class _Stamped(msgspec.Struct):
    event_id: str
    ts_event: int
    ts_init: int


class _Snapshot(msgspec.Struct):
    underlying: str
    expiry: date


class _PricedChain(_Stamped):
    source_event_id: str
    snapshot: _Snapshot


class _Contract(msgspec.Struct):
    underlying: str
    expiry: date


class _Leg(msgspec.Struct):
    contract: _Contract


class _Intent(_Stamped):
    intent_id: str
    legs: list[_Leg]


class _Decision(_Stamped):
    intent: _Intent
    approved: bool


class _Order(_Stamped):
    client_order_id: str
    intent_id: str


class _Accepted(_Stamped):
    client_order_id: str


@dataclass(frozen=True)
class _Stored:
    """A message as JetStream stored it: the event, and when it was stored (ns)."""

    event: msgspec.Struct
    stored_ns: int


async def _read_stream(
    js: JetStreamContext, stream: str, subject: str, event_type: type[msgspec.Struct]
) -> list[_Stored]:
    """Every message on ``subject`` of ``stream``, decoded as ``event_type`` (fields the
    measure needs), with its storage time."""
    subscription = await js.pull_subscribe(
        subject, stream=stream, config=ConsumerConfig(ack_policy=AckPolicy.NONE)
    )
    decoder = msgspec.json.Decoder(event_type)
    stored: list[_Stored] = []
    try:
        while True:
            try:
                batch = await subscription.fetch(500, timeout=2)
            except TimeoutError:  # nothing more stored
                return stored
            for msg in batch:
                stored_ns = int(msg.metadata.timestamp.timestamp() * 1e9)
                stored.append(_Stored(decoder.decode(msg.data), stored_ns))
    finally:
        await subscription.unsubscribe()


@dataclass(frozen=True)
class _Trace:
    """One order accepted, back to its chain: the times (ns) of the chain's publish and of the
    storage of what each hop published."""

    published_ns: int
    stored_ns: tuple[int, ...]

    @property
    def hops_ms(self) -> list[float]:
        times = (self.published_ns, *self.stored_ns)
        return [(b - a) / 1e6 for a, b in itertools.pairwise(times)]

    @property
    def total_ms(self) -> float:
        return (self.stored_ns[-1] - self.published_ns) / 1e6


async def _traces(nats_url: str) -> list[_Trace]:
    """Every order accepted that a strategy intent caused, traced back to its chain."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        md = await _read_stream(js, "MD", "md.chain.>", _Stamped)
        priced = await _read_stream(js, "ANALYTICS", "greeks.chain.>", _PricedChain)
        intents = await _read_stream(js, "TRADING", "strategy.intent.>", _Intent)
        decisions = await _read_stream(js, "TRADING", "risk.decision.>", _Decision)
        orders = await _read_stream(js, "TRADING", "exec.order.new", _Order)
        accepted = await _read_stream(js, "TRADING", "exec.order.accepted", _Accepted)
    finally:
        await nc.close()
    md_by_id = {s.event.event_id: s for s in md}  # type: ignore[attr-defined]
    chain_by_key = {}
    for s in priced:
        chain: _PricedChain = s.event  # type: ignore[assignment]
        key = (chain.ts_event, chain.snapshot.underlying, chain.snapshot.expiry)
        chain_by_key[key] = s
    intent_by_id = {s.event.intent_id: s for s in intents}  # type: ignore[attr-defined]
    decision_by_intent = {s.event.intent.intent_id: s for s in decisions}  # type: ignore[attr-defined]
    order_by_id = {s.event.client_order_id: s for s in orders}  # type: ignore[attr-defined]
    traces = []
    for done in accepted:
        order = order_by_id.get(done.event.client_order_id)  # type: ignore[attr-defined]
        intent = order and intent_by_id.get(order.event.intent_id)  # type: ignore[attr-defined]
        if order is None or intent is None:
            continue  # an exit risk ordered by itself: no strategy intent, no chain
        leg = intent.event.legs[0].contract  # type: ignore[attr-defined]
        chain = chain_by_key.get((intent.event.ts_event, leg.underlying, leg.expiry))
        decision = decision_by_intent.get(intent.event.intent_id)  # type: ignore[attr-defined]
        source = chain and md_by_id.get(chain.event.source_event_id)  # type: ignore[attr-defined]
        if chain is None or decision is None or source is None:
            continue
        stored = (source, chain, intent, decision, order, done)
        traces.append(_Trace(source.event.ts_init, tuple(s.stored_ns for s in stored)))  # type: ignore[attr-defined]
    return traces


def _risk_config(directory: Path) -> Path:
    """The default limits, with the circuit breaker out of reach: the bench strategies lose
    their charges on every round trip, and five losses in a row would halt them."""
    text = RISK_CONFIG.read_text()
    for name, value in (("max_daily_loss_pct", "100.0"), ("max_drawdown_pct", "100.0"),
                        ("max_consecutive_losses", "1_000_000"),
                        ("max_open_positions", "100"), ("max_abs_vega", "1_000_000.0"),
                        ("max_abs_delta_notional", "100_000_000.0")):  # fmt: skip
        text = re.sub(rf"{name} = [\d_.]+", f"{name} = {value}", text)
    path = directory / "risk.toml"
    path.write_text(text)
    return path


@contextmanager
def _responder(nats_url: str) -> Iterator[None]:
    """An echo service in a process of its own."""
    process = subprocess.Popen([sys.executable, "-c", _RESPONDER, nats_url],
                               stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        yield
    finally:
        process.terminate()
        process.wait()


async def _round_trips_ms(nc: nats.NATS, seconds: float) -> list[float]:
    """Request/reply round trips to the echo service, one every ``PROBE_GAP_SECONDS`` for
    ``seconds``, in ms."""
    payload = b"x" * 200
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter_ns()
        await nc.request("bench.echo", payload, timeout=5)
        times.append((time.perf_counter_ns() - started) / 1e6)
        await asyncio.sleep(PROBE_GAP_SECONDS)
    return times


def _cpu_seconds(pid: int) -> float:
    """CPU (user + system) process ``pid`` has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class _Window:
    """What was measured beside the pipeline while it traded: the bare round trips, and the
    CPU seconds each service process used."""

    round_trips_ms: list[float]
    cpu_seconds: dict[str, float]
    load_average: float


async def _trading_window(nats_url: str, processes: ServiceProcesses, seconds: float) -> _Window:
    """From market-data's first chain (its start-up is not the window), ``seconds`` of
    trading with the round-trip probe running beside it."""
    nc = await nats.connect(nats_url)
    try:
        first = await nc.subscribe("md.chain.>", max_msgs=1)
        if (await nc.jetstream().stream_info("MD")).state.messages == 0:
            await first.next_msg(timeout=SERVICES_READY_TIMEOUT_SECONDS)
        pids = {name: process.pid for name, process in processes.processes.items()}
        before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
        round_trips = await _round_trips_ms(nc, seconds)
        used = {name: _cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    finally:
        await nc.close()
    return _Window(round_trips, used, load_average=os.getloadavg()[1])


def _scratch_database() -> str:
    base = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL).rpartition("/")[0]
    create_database(f"{base}/postgres", "optbus_bench_tick_to_order", fresh=True)
    url = f"{base}/optbus_bench_tick_to_order"
    migrate(url)
    return url


def _trade_at_real_time(nats_url: str, database_url: str, work: Path, seconds: float) -> _Window:
    """The services up, then market-data at real time for ``seconds``, then a pause for the
    last chain's orders to land."""
    env = os.environ | {"NATS_URL": nats_url, "DATABASE_URL": database_url}
    processes = ServiceProcesses(env, work / "logs")
    try:
        start_services(processes, SERVICES_READY_TIMEOUT_SECONDS, {
            "strategy": {"OPTBUS_STRATEGY_STRATEGIES_FILE": str(STRATEGIES)},
            "risk": {"OPTBUS_RISK_CONFIG_FILE": str(_risk_config(work))},
        })  # fmt: skip
        processes.start("market-data", {
            "OPTBUS_MARKET_DATA_SEED": "17",
            "OPTBUS_MARKET_DATA_RUN_ID": "bench-tick-to-order",
            "OPTBUS_MARKET_DATA_START_DATE": DAY.isoformat(),
            "OPTBUS_MARKET_DATA_SPEED": "1",
        })  # fmt: skip
        with _responder(nats_url):
            window = asyncio.run(_trading_window(nats_url, processes, seconds))
        processes.stop("market-data")
        time.sleep(SETTLE_SECONDS)
        if processes.failed():
            raise RuntimeError(f"services failed: {processes.failed()} (logs in {work})")
        return window
    finally:
        processes.stop_all()


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(scale: float) -> list[Record]:
    """The session at real time, traced order by order, beside the bare round trip."""
    seconds = max(30.0, SECONDS_AT_SCALE_1 * scale)
    database_url = _scratch_database()
    work = Path(tempfile.mkdtemp(prefix="bench-tick-to-order-"))
    server = LocalNats(work / "nats").start()
    try:
        asyncio.run(prepare_bus(server.url))
        window = _trade_at_real_time(server.url, database_url, work, seconds)
        traces = asyncio.run(_traces(server.url))
    finally:
        server.stop()
    if not traces:
        raise RuntimeError(f"no order traced to its chain (logs and bus store in {work})")
    shutil.rmtree(work)
    totals = [trace.total_ms for trace in traces]
    hops = np.array([trace.hops_ms for trace in traces])
    orders = f"{len(traces)} orders in {seconds:.0f} s"
    round_trips = window.round_trips_ms
    floor_p50 = _percentile(round_trips, 50) * (len(HOPS) - 1)
    floor_p99 = _percentile(round_trips, 99) * (len(HOPS) - 1)
    records = [
        record("tick_to_order_p50_ms", _percentile(totals, 50), f"ms ({orders})",
               "bare NATS request/reply p50 x 5 hops", floor_p50),
        record("tick_to_order_p99_ms", _percentile(totals, 99), f"ms ({orders})",
               "bare NATS request/reply p99 x 5 hops", floor_p99),
    ]  # fmt: skip
    for index, hop in enumerate(HOPS):
        for q in (50, 99):
            records.append(record(
                f"tick_to_order_hop_{index}_{hop.replace(' ', '_')}_p{q}_ms",
                _percentile(list(hops[:, index]), q), "ms",
                f"bare NATS request/reply p{q}", _percentile(round_trips, q),
            ))  # fmt: skip
    records.append(record(
        "tick_to_order_load_average_5_min", window.load_average, "runnable tasks",
        "this machine's cores", os.cpu_count() or 1,
    ))  # fmt: skip
    for service, cpu in window.cpu_seconds.items():
        records.append(record(
            f"tick_to_order_cpu_ms_per_second_{service}", 1e3 * cpu / seconds, "CPU ms/s",
            "wall ms per second", 1e3,
        ))  # fmt: skip
    return records
