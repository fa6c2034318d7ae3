"""``optbus demo`` stopped by a signal stops every service it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from optbus_cli.service_processes import PIPELINE_SERVICES

from ..conftest import fresh_database, migrated_nats

pytestmark = pytest.mark.e2e

SERVICES = len(PIPELINE_SERVICES) + 1  # and market-data


@pytest.fixture(scope="module")
def demo_env(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str
) -> Iterator[dict[str, str]]:
    with (
        migrated_nats(tmp_path_factory.mktemp("signal-nats")) as server,
        fresh_database(postgres_admin_url, f"optbus_demo_signal_{os.getpid()}") as database,
    ):
        yield os.environ | {"NATS_URL": server.url, "DATABASE_URL": database}


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _demo_with_every_service_running(
    env: dict[str, str],
) -> tuple[subprocess.Popen[str], list[int]]:
    demo = subprocess.Popen(
        [sys.executable, "-m", "optbus_cli.main", "demo", "--minutes", "60", "--speed", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while len(_children(demo.pid)) < SERVICES:
        assert demo.poll() is None, demo.communicate()[0]
        assert time.monotonic() < deadline, "the demo did not start its services"
        time.sleep(0.5)
    return demo, _children(demo.pid)


@dataclass(frozen=True)
class Stopped:
    """What a demo stopped by a signal left: its exit code, and its services still alive."""

    exit_code: int
    alive: list[int]


def _stopped_by(signum: int, env: dict[str, str]) -> Stopped:
    demo, services = _demo_with_every_service_running(env)
    demo.send_signal(signum)
    exit_code = demo.wait(timeout=120)
    return Stopped(exit_code, [pid for pid in services if _alive(pid)])


@pytest.fixture(scope="module")
def terminated(demo_env: dict[str, str]) -> Stopped:
    return _stopped_by(signal.SIGTERM, demo_env)


def test_sigterm_stops_every_service_the_demo_started(terminated: Stopped) -> None:
    assert terminated.alive == []


def test_the_demo_stopped_by_sigterm_exits_143(terminated: Stopped) -> None:
    assert terminated.exit_code == 128 + signal.SIGTERM


def test_ctrl_c_stops_every_service_the_demo_started(demo_env: dict[str, str]) -> None:
    assert _stopped_by(signal.SIGINT, demo_env).alive == []
