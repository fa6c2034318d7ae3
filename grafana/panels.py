"""What every generated dashboard is built of: data-source references, queries and panels."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.builders.common import (
    ReduceDataOptions,
    VizLegendOptions,
    VizTooltipOptions,
)
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from prometheus_client.metrics import MetricWrapperBase

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
"""The Prometheus a dashboard's ``datasource`` variable names."""
RATE = "$__rate_interval"


def metric(collector: MetricWrapperBase, suffix: str = "") -> str:
    """The exported name of a prometheus_client metric, plus a sample suffix (_bucket, _total)."""
    (family,) = collector.describe()
    return str(family.name) + suffix


def query(expr: str, legend: str, ref: str = "A") -> prometheus.Dataquery:
    """A Prometheus range query with its legend."""
    return (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend)
        .ref_id(ref)
        .range()
        .datasource(DATASOURCE)
    )


def quantiles(bucket: str, by: Iterable[str], legend: str) -> list[prometheus.Dataquery]:
    """p50 and p99 of a histogram, by the given labels."""
    labels = ", ".join([*by, "le"])
    return [
        query(
            f"histogram_quantile({q}, sum by ({labels}) (rate({bucket}[{RATE}])))",
            f"{name} {legend}".strip(),
            ref,
        )
        for q, name, ref in ((0.5, "p50", "A"), (0.99, "p99", "B"))
    ]


def graph(
    title: str,
    description: str,
    unit: str,
    targets: Iterable[Builder[Dataquery]],
    span: int = 12,
    height: int = 8,
    datasource: model.DataSourceRef = DATASOURCE,
    minimum: float | None = 0,
) -> Any:
    """A time series panel, half the width of the dashboard unless told otherwise; its axis
    starts at ``minimum`` (None: where the data starts)."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(datasource)
        .unit(unit)
        .span(span)
        .height(height)
        .line_width(1)
        .fill_opacity(10)
        .legend(
            VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["mean", "max", "lastNotNull"])
        )
        .tooltip(VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
    )
    if minimum is not None:
        panel = panel.min(minimum)
    for target in targets:
        panel = panel.with_target(target)
    return panel


def thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


def number(
    title: str, description: str, span: int, datasource: model.DataSourceRef = DATASOURCE
) -> Any:
    """A stat panel: the last value, coloured by thresholds."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(datasource)
        .span(span)
        .height(5)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
