"""The services as processes of their own, each an ``optbus run`` with its own log, and the
wait until they are ready: what the demo and the replay start, and what a test or a benchmark
starts several replicas of."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from optbus_backtest.wiring import PIPELINE
from optbus_cli.readiness import ServicesNotReady
from optbus_cli.servers import free_port
from optbus_persistence.topology import TOPOLOGY as PERSISTENCE

PIPELINE_SERVICES = (PERSISTENCE.service, *(topology.service for topology in PIPELINE))
"""The services that consume market data and trade on it, storage first."""


class ServiceProcesses:
    """The services of the demo, each its own ``optbus run`` process with its own log."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self._env = env
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, extra_env: dict[str, str] | None = None, *, instance: str | None = None
    ) -> None:
        """Start service ``name``, known (and logged) as ``instance``, by default its name."""
        instance = instance or name
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{instance}.log").open("wb")
        self.processes[instance] = subprocess.Popen(
            [sys.executable, "-m", "optbus_cli.main", "run", name],
            env=self._env | (extra_env or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self, name: str) -> None:
        """SIGTERM one service and wait for it to drain and exit."""
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()

    def failed(self) -> list[str]:
        """Services that exited with an error."""
        return [name for name, p in self.processes.items() if p.poll() not in (None, 0)]

    def stop_all(self) -> None:
        """SIGTERM every service (they drain in-flight messages), then wait for them."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(200 <= answer.status < 300)
    except OSError:
        return False


def http_port_setting(service: str) -> str:
    """The setting that picks the HTTP port (``/metrics``, ``/healthz``) of ``service``."""
    return f"OPTBUS_{service.upper().replace('-', '_')}_HTTP_PORT"


def replica_names(service: str, count: int) -> list[str]:
    """What the replicas of ``service`` are known and logged as: its own name when it runs
    alone, else ``<service>-1`` ... ``<service>-<count>``."""
    if count < 1:
        raise ValueError(f"{service}: at least one replica, not {count}")
    return [service] if count == 1 else [f"{service}-{n}" for n in range(1, count + 1)]


def start_replicas(
    processes: ServiceProcesses,
    replicas: Mapping[str, int],
    timeout: float,
    extra_env: Mapping[str, dict[str, str]] | None = None,
) -> dict[str, int]:
    """Start ``replicas[service]`` processes of each service and wait until each serves
    ``/healthz``: its consumers exist and consume (greeks has compiled its kernels), so nothing
    published afterwards waits on a service that is not there yet. ``extra_env`` adds settings
    per service. Replicas of a service share its durable consumers (JetStream hands each message
    to one of them); each serves HTTP on a port of its own. Returns each replica's port, by
    its name (``replica_names``)."""
    ports: dict[str, int] = {}
    for service, count in replicas.items():
        for instance in replica_names(service, count):
            ports[instance] = free_port()
            settings = {http_port_setting(service): str(ports[instance])}
            processes.start(
                service, settings | (extra_env or {}).get(service, {}), instance=instance
            )
    deadline = time.monotonic() + timeout
    waiting = dict(ports)
    while waiting:
        if processes.failed():
            raise ServicesNotReady(
                f"service failed to start: {', '.join(processes.failed())} "
                f"(see its log in {processes.log_dir})"
            )
        if time.monotonic() > deadline:
            raise ServicesNotReady(
                f"services not ready after {timeout:.0f} s: {', '.join(sorted(waiting))} "
                f"(see their logs in {processes.log_dir})"
            )
        waiting = {name: port for name, port in waiting.items() if not _healthy(port)}
        time.sleep(0.2)
    return ports


def start_services(
    processes: ServiceProcesses,
    timeout: float,
    extra_env: Mapping[str, dict[str, str]] | None = None,
) -> None:
    """Start one process of every pipeline service and wait until each is ready (see
    ``start_replicas``)."""
    start_replicas(processes, dict.fromkeys(PIPELINE_SERVICES, 1), timeout, extra_env)
