"""Prometheus's and Alertmanager's own tools, and the repo's alerting files, for the tests.

The tools come from Debian's ``prometheus`` and ``prometheus-alertmanager`` packages, which
``make alerting-tools`` (run by ``make test``) installs when they are missing: a missing tool
fails a test, never skips it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TARGET = "alerting-tools"
"""The Makefile target that installs the tools (``make test`` runs it)."""
ALERT_RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT_RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTMANAGER_TEMPLATE = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
RENDER_CONFIG = ROOT / "deploy" / "alertmanager" / "render-config.sh"
SERVICE_MONITORS = ROOT / "deploy" / "k8s" / "base" / "service-monitors.yaml"
COMPOSE = ROOT / "deploy" / "compose.yaml"

DELIVERED_END_TO_END = ("OptbusKillSwitchEngaged", "OptbusKillSwitchInvalidCommand")
"""The alerts tests/e2e/test_alert_delivery.py drives to a webhook with shortened intervals;
tests/test_alerting_config.py checks that production's intervals deliver them in time too."""
DELIVERY_BOUND_SECONDS = 60.0
"""An alert must reach a person within this of its cause."""

EXAMPLE_RECEIVERS = {
    "ALERTMANAGER_WEBHOOK_URL": "https://hooks.example.com/optbus?token=abc&team=ops",
    "ALERTMANAGER_TELEGRAM_BOT_TOKEN": "123456789:AAExampleExampleExampleExample_-x",
    "ALERTMANAGER_TELEGRAM_CHAT_ID": "-1001234567890",
    "ALERTMANAGER_SMTP_SMARTHOST": "smtp.example.com:587",
    "ALERTMANAGER_SMTP_FROM": "optbus@example.com",
    "ALERTMANAGER_SMTP_USERNAME": "optbus",
    "ALERTMANAGER_SMTP_PASSWORD": "p&ss|word with spaces",
    "ALERTMANAGER_EMAIL_TO": "oncall@example.com",
}
"""Receivers as an operator sets them, the password with the characters a naive
substitution would break on."""


def compose_services() -> list[str]:
    """The optbus services compose runs (an ``optbus run <service>`` container each)."""
    spec = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return [
        service["command"][1]
        for service in spec["services"].values()
        if isinstance(service.get("command"), list) and service["command"][:1] == ["run"]
    ]


def tool(name: str) -> str:
    """The path of ``name`` (promtool, amtool, prometheus, prometheus-alertmanager)."""
    path = shutil.which(name)
    assert path is not None, f"{name} is not installed: run `make {INSTALL_TARGET}`"
    return path


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a tool by name, its output captured."""
    return subprocess.run([tool(args[0]), *args[1:]], capture_output=True, text=True, timeout=60)


def render_alertmanager_config(
    output: Path, receivers: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Render the repo's Alertmanager template with ``receivers`` as the container's
    environment, as the container's start does."""
    env = {"PATH": os.environ["PATH"], **receivers}
    return subprocess.run(
        ["sh", str(RENDER_CONFIG), str(ALERTMANAGER_TEMPLATE), str(output)],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
