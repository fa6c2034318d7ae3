"""The alerting files are valid for the real tools, every rule is unit-tested, every alert has
a runbook section, and Alertmanager routes each severity to its receivers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerting import (
    ALERT_RULE_TESTS,
    ALERT_RULES,
    ALERTMANAGER_TEMPLATE,
    DELIVERED_END_TO_END,
    DELIVERY_BOUND_SECONDS,
    EXAMPLE_RECEIVERS,
    PROMETHEUS_CONFIG,
    ROOT,
    SERVICE_MONITORS,
    render_alertmanager_config,
    run_tool,
    tool,
)

SEVERITIES = {"critical", "warning", "info"}


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _heading_anchors(markdown: Path) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


@pytest.fixture(scope="module")
def alertmanager_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("alertmanager") / "alertmanager.yml"
    rendered = render_alertmanager_config(output, EXAMPLE_RECEIVERS)
    assert rendered.returncode == 0, rendered.stderr
    return output


def _make_recipe(target: str) -> str:
    """The recipe (its tab-indented lines) of a Makefile target, empty if there is none."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)*)", makefile, re.MULTILINE)
    return match.group(1) if match else ""


def test_a_missing_tool_names_the_make_target_that_installs_the_tools() -> None:
    with pytest.raises(AssertionError) as missing:
        tool("optbus-no-such-tool")

    target = re.search(r"`make ([\w-]+)`", str(missing.value))
    assert target is not None, str(missing.value)
    assert "$(ALERTING_TOOLS)" in _make_recipe(target.group(1))
    assert "prometheus-alertmanager" in _make_recipe(target.group(1))


def test_the_alert_rules_are_valid_for_promtool() -> None:
    checked = run_tool("promtool", "check", "rules", str(ALERT_RULES))

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_rule_passes_its_promtool_unit_tests() -> None:
    tested = run_tool("promtool", "test", "rules", str(ALERT_RULE_TESTS))

    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_rule_has_a_promtool_unit_test() -> None:
    tests = yaml.safe_load(ALERT_RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}

    assert {rule["alert"] for rule in _rules()} <= tested


def test_every_alert_has_a_severity_a_summary_and_a_runbook_section() -> None:
    anchors = _heading_anchors(ROOT / "docs" / "operations.md")
    for rule in _rules():
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        page, anchor = rule["annotations"]["runbook"].split("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor in anchors, rule["alert"]


def test_the_prometheus_configuration_is_valid_for_promtool(tmp_path: Path) -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    config["rule_files"] = [str(ALERT_RULES)]  # where compose mounts it: /etc/prometheus
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")

    checked = run_tool("promtool", "check", "config", str(tmp_path / "prometheus.yml"))

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_rendered_alertmanager_configuration_is_valid_for_amtool(
    alertmanager_config: Path,
) -> None:
    checked = run_tool("amtool", "check-config", str(alertmanager_config))

    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("severity", "receiver"), [("critical", "page"), ("warning", "notify"), ("info", "webhook")]
)
def test_alertmanager_routes_each_severity_to_its_receivers(
    alertmanager_config: Path, severity: str, receiver: str
) -> None:
    routed = run_tool("amtool", "config", "routes", "test", f"--config.file={alertmanager_config}",
                      "alertname=OptbusAny", f"severity={severity}")  # fmt: skip

    assert routed.stdout.strip() == receiver, routed.stdout + routed.stderr


def test_critical_alerts_reach_the_webhook_telegram_and_email(alertmanager_config: Path) -> None:
    config = yaml.safe_load(alertmanager_config.read_text(encoding="utf-8"))
    page = next(r for r in config["receivers"] if r["name"] == "page")

    assert {"webhook_configs", "telegram_configs", "email_configs"} <= set(page)


def test_the_rendered_configuration_carries_the_receivers_secrets(
    alertmanager_config: Path,
) -> None:
    config = yaml.safe_load(alertmanager_config.read_text(encoding="utf-8"))
    page = next(r for r in config["receivers"] if r["name"] == "page")
    given = EXAMPLE_RECEIVERS

    assert config["global"]["smtp_auth_password"] == given["ALERTMANAGER_SMTP_PASSWORD"]
    assert page["telegram_configs"][0]["bot_token"] == given["ALERTMANAGER_TELEGRAM_BOT_TOKEN"]
    assert page["webhook_configs"][0]["url"] == given["ALERTMANAGER_WEBHOOK_URL"]


def test_the_template_holds_only_placeholders_where_secrets_go() -> None:
    text = ALERTMANAGER_TEMPLATE.read_text(encoding="utf-8")
    for key in ("smtp_auth_password", "bot_token", "url"):
        for value in re.findall(rf"^\s*(?:- )?{key}: (.+)$", text, re.MULTILINE):
            assert re.fullmatch(r'"\$\{ALERTMANAGER_[A-Z_]+\}"', value), f"{key}: {value}"


def test_rendering_refuses_an_unset_receiver_and_names_it(tmp_path: Path) -> None:
    receivers = dict(EXAMPLE_RECEIVERS)
    del receivers["ALERTMANAGER_TELEGRAM_BOT_TOKEN"]

    rendered = render_alertmanager_config(tmp_path / "alertmanager.yml", receivers)

    assert rendered.returncode != 0
    assert "ALERTMANAGER_TELEGRAM_BOT_TOKEN is not set" in rendered.stderr
    assert not (tmp_path / "alertmanager.yml").exists()


def test_rendering_refuses_a_value_that_would_end_its_yaml_string_without_showing_it(
    tmp_path: Path,
) -> None:
    receivers = EXAMPLE_RECEIVERS | {"ALERTMANAGER_SMTP_PASSWORD": 'hunter"2'}

    rendered = render_alertmanager_config(tmp_path / "alertmanager.yml", receivers)

    assert rendered.returncode != 0
    assert "ALERTMANAGER_SMTP_PASSWORD" in rendered.stderr
    assert "hunter" not in rendered.stderr


# --- production's intervals ------------------------------------------------------------------
# tests/e2e/test_alert_delivery.py shortens every interval to a second to run quickly; these
# check that the files' own intervals deliver the same alerts within the bound.

_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(duration: str) -> float:
    """A Prometheus duration (15s, 1m30s) in seconds."""
    assert re.fullmatch(r"(\d+(ms|s|m|h))+", duration), duration
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(duration))


def _matches(matcher: str, labels: dict[str, str]) -> bool:
    parsed = re.fullmatch(r'(\w+)="([^"]*)"', matcher)
    assert parsed is not None, f'only name="value" matchers are read here: {matcher}'
    return labels.get(parsed.group(1)) == parsed.group(2)


def _group_wait(route: dict[str, Any], labels: dict[str, str], inherited: float) -> float:
    """The group_wait Alertmanager applies to an alert: its deepest matching route's, each
    route inheriting its parent's (the routes here have no `continue`)."""
    wait = _seconds(route["group_wait"]) if "group_wait" in route else inherited
    for child in route.get("routes", []):
        assert not child.get("continue"), "a route that continues: count each branch"
        if all(_matches(m, labels) for m in child.get("matchers", [])):
            return _group_wait(child, labels, wait)
    return wait


def test_the_seconds_of_a_duration_add_its_parts() -> None:
    assert [_seconds(d) for d in ("15s", "1m30s", "500ms", "2h")] == [15, 90, 0.5, 7200]


@pytest.mark.parametrize("alertname", DELIVERED_END_TO_END)
def test_production_intervals_deliver_an_alert_tested_end_to_end_within_a_minute(
    alertname: str,
) -> None:
    """At worst the metric changes just after a scrape began: the next scrape (interval, plus
    its timeout to be stored), the next evaluation, the rule's `for`, then Alertmanager's
    group_wait for a new group; sending to Alertmanager and to the webhook is immediate."""
    prometheus = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))["global"]
    (rule,) = [rule for rule in _rules() if rule.get("alert") == alertname]
    route = yaml.safe_load(ALERTMANAGER_TEMPLATE.read_text(encoding="utf-8"))["route"]
    labels = {"alertname": alertname, **rule["labels"]}

    worst = (
        _seconds(prometheus["scrape_interval"])
        + _seconds(prometheus["scrape_timeout"])
        + _seconds(prometheus["evaluation_interval"])
        + _seconds(rule.get("for", "0s"))
        + _group_wait(route, labels, inherited=30.0)
    )

    assert worst < DELIVERY_BOUND_SECONDS, f"{alertname}: {worst:g} s at worst"


def test_kubernetes_scrapes_the_services_as_often_as_compose() -> None:
    prometheus = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))["global"]
    monitors = yaml.safe_load_all(SERVICE_MONITORS.read_text(encoding="utf-8"))
    (services,) = [m for m in monitors if m["metadata"]["name"] == "optbus-services"]
    for endpoint in services["spec"]["endpoints"]:
        assert _seconds(endpoint["interval"]) <= _seconds(prometheus["scrape_interval"])
        assert _seconds(endpoint["scrapeTimeout"]) <= _seconds(prometheus["scrape_timeout"])
