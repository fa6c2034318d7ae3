"""Every PromQL expression of the generated dashboards parses (promtool) and reads a metric that
some optbus service exports (its prometheus_client registry), or Prometheus's own ``up``."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

from optbus_cli.commands.services import SERVICES

from .test_deploy_manifests import GRAFANA

GRAFANA_RANGES = ("$__rate_interval", "$__range", "$__interval")
PROMETHEUS_OWN = {"up"}
"""Series Prometheus makes for every scrape target, not exported by a service."""
NOT_METRICS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
               "and", "or", "unless", "inf", "nan"}  # fmt: skip
SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
                   "summary": ("_sum", "_count")}  # fmt: skip


def _expressions() -> list[str]:
    exprs: list[str] = []
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        board: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for panel in board["panels"]:
            exprs += [t["expr"] for t in panel.get("targets", []) if "expr" in t]
    return exprs


def _as_prometheus_sees_it(expr: str) -> str:
    """Grafana's range variables replaced by a duration, as Grafana does before sending."""
    for variable in GRAFANA_RANGES:
        expr = expr.replace(variable, "5m")
    return expr


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers outside label matchers, ranges,
    strings and grouping clauses that are not a function, an aggregation or a keyword."""
    bare = re.sub(r'"[^"]*"', "", expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    names = re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", bare)
    return {name for name in names if name not in NOT_METRICS}


def exported_names() -> set[str]:
    """Every sample name the services' registries can export (each service's modules loaded)."""
    for service in SERVICES:
        importlib.import_module(f"optbus_{service.replace('-', '_')}.main")
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + s for s in SAMPLE_SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


def test_the_dashboards_hold_promql() -> None:
    assert len(_expressions()) > 20


def test_every_promql_expression_parses(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool missing: `make test` installs Debian's prometheus"
    rules = [{"record": f"dashboard:expr_{index}", "expr": _as_prometheus_sees_it(expr)}
             for index, expr in enumerate(_expressions())]  # fmt: skip
    path = tmp_path / "dashboard-expressions.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))

    checked = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_promql_expression_reads_a_metric_a_service_exports() -> None:
    known = exported_names() | PROMETHEUS_OWN
    unknown = {
        expr: sorted(metric_names(expr) - known)
        for expr in _expressions()
        if metric_names(expr) - known or not metric_names(expr)
    }
    assert unknown == {}


def test_metric_names_skips_functions_labels_and_grouping() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (service, le) (rate(optbus_handler_seconds_bucket"
        '{service=~"risk"}[5m]))) or vector(0)'
    )
    assert metric_names(expr) == {"optbus_handler_seconds_bucket"}
