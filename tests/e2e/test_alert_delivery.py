"""Alerts reach a person: every service compose runs, a real Prometheus scraping them all with
the repo's rules and a real Alertmanager with the repo's routing (receivers rendered as the
container renders them), and a webhook receiver standing in for the team's; an operator
engages the kill switch with `nats pub` and the alert arrives.

Only the intervals are shortened (scrape and evaluation every second, group_wait one second),
so the test takes seconds; tests/test_alerting_config.py checks that production's intervals
add up to under a minute for the same alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from optbus.events import KillSwitchCommand
from optbus_cli.bus_migration import migrate as migrate_bus
from optbus_cli.killswitch import send_command
from optbus_cli.servers import LocalNats, free_port
from optbus_cli.service_processes import ServiceProcesses, start_replicas
from optbus_persistence.schema import migrate as migrate_schema
from tests.alerting import (
    ALERT_RULES,
    DELIVERED_END_TO_END,
    DELIVERY_BOUND_SECONDS,
    EXAMPLE_RECEIVERS,
    compose_services,
    render_alertmanager_config,
    tool,
)
from tests.conftest import fresh_database

from .test_kill_switch import nats_pub

pytestmark = pytest.mark.e2e

SERVICES = tuple(compose_services())
"""Every service compose runs, one process each: Prometheus scrapes them all, as in production."""
KILL_SWITCH_READERS = ("risk", "execution")
ENGAGED, INVALID_COMMAND = DELIVERED_END_TO_END
"""The alerts delivered here, whose production timing tests/test_alerting_config.py checks."""
START_SECONDS = 120.0
"""Seven services on a shared machine; greeks compiles its kernels (cached after a first run)."""
QUIET_SERVICES = {
    # one chain a simulated minute (the default is every second): the stack is up, not busy
    "market-data": {"OPTBUS_MARKET_DATA_STEP_SECONDS": "60", "OPTBUS_MARKET_DATA_RUN_ID": "alerts"},
    # no data-quality check or training while the test runs
    "trainer": {"OPTBUS_TRAINER_CHECK_INTERVAL_SECONDS": "3600"},
}


@dataclass
class WebhookReceiver:
    """An HTTP endpoint that keeps every Alertmanager notification POSTed to it, with the
    wall-clock time it arrived."""

    port: int = field(default_factory=free_port)
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)

    async def _keep(self, request: web.Request) -> web.Response:
        self.received.append((time.time(), await request.json()))
        return web.Response(status=200)

    def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/alerts", self._keep)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def firing(self, alertname: str) -> list[tuple[float, dict[str, Any]]]:
        """(arrival, alert) of each firing alert of that name received so far."""
        return [
            (arrived, alert)
            for arrived, notification in list(self.received)
            for alert in notification["alerts"]
            if alert["status"] == "firing" and alert["labels"]["alertname"] == alertname
        ]


def _wait(condition: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {within:g} s")


def _get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def _prometheus_value(port: int, query: str) -> float | None:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    answer = _get_json(url)
    results = answer["data"]["result"] if answer else []
    return float(results[0]["value"][1]) if results else None


def _start(stack: contextlib.ExitStack, args: list[str], log: Path) -> None:
    process = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

    stack.callback(stop)


def _prometheus_config(service_ports: dict[str, int], alertmanager_port: int) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERT_RULES)],
        "alerting": {"alertmanagers": [
            {"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]},
        ]},
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            for name, port in service_ports.items()
        ],
    }  # fmt: skip


def _alertmanager_config(path: Path, webhook_port: int) -> None:
    """The repo's template rendered with a local webhook (Telegram and the mail server stay
    the examples': nothing answers there, which the webhook's delivery must not depend on)."""
    receivers = EXAMPLE_RECEIVERS | {
        "ALERTMANAGER_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/alerts",
        "ALERTMANAGER_SMTP_SMARTHOST": "127.0.0.1:9",
    }
    rendered = render_alertmanager_config(path, receivers)
    assert rendered.returncode == 0, rendered.stderr
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["route"] |= {"group_wait": "1s", "group_interval": "1s"}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


@dataclass(frozen=True)
class AlertingStack:
    nats: LocalNats
    webhook: WebhookReceiver
    prometheus_port: int


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str
) -> Iterator[AlertingStack]:
    """NATS, a database and every service with the switch released, Prometheus scraping them
    all and evaluating the repo's rules, Alertmanager routing to the webhook receiver."""
    work = tmp_path_factory.mktemp("alerting")
    with contextlib.ExitStack() as stack:
        nats = LocalNats(work / "nats").start()
        stack.callback(nats.stop)
        asyncio.run(migrate_bus(nats.url))
        database_name = f"optbus_alerts_test_{os.getpid()}"
        database_url = stack.enter_context(fresh_database(postgres_admin_url, database_name))
        migrate_schema(database_url)
        env = {"NATS_URL": nats.url, "DATABASE_URL": database_url}
        processes = ServiceProcesses(dict(os.environ) | env, work / "logs")
        stack.callback(processes.stop_all)
        service_ports = start_replicas(
            processes, dict.fromkeys(SERVICES, 1), START_SECONDS, QUIET_SERVICES
        )
        release = KillSwitchCommand(action="release", reason="alert e2e", operator="ops-e2e")
        _wait(lambda: asyncio.run(send_command(nats.url, release)).confirmed, 60, "release")

        webhook = WebhookReceiver().start()
        stack.callback(webhook.stop)
        alertmanager_port = free_port()
        _alertmanager_config(work / "alertmanager.yml", webhook.port)
        _start(stack, [
            tool("prometheus-alertmanager"), f"--config.file={work / 'alertmanager.yml'}",
            f"--storage.path={work / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{alertmanager_port}", "--cluster.listen-address=",
        ], work / "alertmanager.log")  # fmt: skip
        prometheus_port = free_port()
        config = work / "prometheus.yml"
        config.write_text(yaml.safe_dump(_prometheus_config(service_ports, alertmanager_port)))
        _start(stack, [
            tool("prometheus"), f"--config.file={config}",
            f"--storage.tsdb.path={work / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ], work / "prometheus.log")  # fmt: skip
        _wait(
            lambda: _prometheus_value(prometheus_port, 'optbus_killswitch_engaged{service="risk"}')
            == 0,
            60, "Prometheus scrapes risk's released kill switch",
        )  # fmt: skip
        _wait(lambda: _prometheus_value(prometheus_port, "count(up == 1)") == len(SERVICES),
              30, "Prometheus scrapes every service")  # fmt: skip
        yield AlertingStack(nats, webhook, prometheus_port)


def test_every_service_compose_runs_is_scraped_and_none_is_reported_down(
    stack: AlertingStack,
) -> None:
    up = {job: _prometheus_value(stack.prometheus_port, f'up{{job="{job}"}}') for job in SERVICES}
    down = _prometheus_value(
        stack.prometheus_port,
        'count(ALERTS{alertname=~"OptbusService(Down|Absent)", alertstate="firing"})',
    )

    assert up == dict.fromkeys(SERVICES, 1.0)
    assert down is None


def test_an_engaged_kill_switch_reaches_the_webhook_within_a_minute(
    stack: AlertingStack,
) -> None:
    assert stack.webhook.firing(ENGAGED) == []
    body = b'{"action":"engage","reason":"alert e2e drill","operator":"ops-e2e"}'
    engaged = time.time()
    nats_pub(stack.nats.port, "control.killswitch", body)

    _wait(lambda: stack.webhook.firing(ENGAGED), DELIVERY_BOUND_SECONDS,
          "the kill-switch alert at the webhook")  # fmt: skip

    arrived, alert = stack.webhook.firing(ENGAGED)[0]
    print(f"\nkill switch engaged -> webhook: {arrived - engaged:.1f} s")
    assert alert["annotations"]["summary"] == "trading is halted (kill switch engaged)"
    assert alert["labels"]["severity"] == "warning"


def test_the_first_invalid_kill_switch_command_reaches_the_webhook_as_critical(
    stack: AlertingStack,
) -> None:
    nats_pub(stack.nats.port, "control.killswitch", b'{"action":"stop"}')

    _wait(lambda: stack.webhook.firing(INVALID_COMMAND),
          DELIVERY_BOUND_SECONDS, "the invalid-command alert at the webhook")  # fmt: skip

    services = {a["labels"]["service"] for _, a in stack.webhook.firing(
        INVALID_COMMAND)}  # fmt: skip
    assert services <= set(KILL_SWITCH_READERS)
    assert all(a["labels"]["severity"] == "critical"
               for _, a in stack.webhook.firing(INVALID_COMMAND))  # fmt: skip
