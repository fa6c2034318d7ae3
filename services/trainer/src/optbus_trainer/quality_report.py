"""The data-quality monitor's outputs: each report as a ``DataQualityReported`` event (on
``control.dq``), a row of ``data_quality_reports``, and Prometheus gauges of every coverage.

``run_quality_check`` is what the trainer service calls at 15:45 IST and ``optbus dq`` by hand;
``record_report`` stores a report, ``set_gauges`` exports it; an ``EventPublisher`` sends it
on ``control.dq``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import msgspec
from prometheus_client import Gauge
from psycopg.types.json import Jsonb

from optbus import database
from optbus.clock import Clock
from optbus.events import CoverageCheck, DataQualityReported
from optbus.ids import derived_event_id
from optbus.timestamps import datetime_from_ns, epoch_ns
from optbus_trainer.quality import CHAIN_FIELDS, TRADE_FIELDS, QualityReport, Thresholds
from optbus_trainer.quality_sql import quality_report_between

DQ_COVERAGE = Gauge(
    "optbus_dq_coverage_ratio",
    "Share of rows in the data-quality window that have the field (NaN: no rows)",
    ["group", "check"],
)
DQ_THRESHOLD = Gauge(
    "optbus_dq_threshold_ratio", "Coverage a field must reach to pass", ["group", "check"]
)
DQ_PASSED = Gauge(
    "optbus_dq_passed", "1 when every field of the last report met its threshold (NaN: none yet)"
)
DQ_REPORTED_AT = Gauge(
    "optbus_dq_last_report_timestamp_seconds", "When the last data-quality report was made"
)


@dataclass(frozen=True, slots=True)
class QualityWindow:
    """The look-back window ``[start, end)`` a report covers (epoch ns)."""

    start_ns: int
    end_ns: int

    @classmethod
    def ending(cls, end_ns: int, days: float) -> QualityWindow:
        """The ``days`` days up to ``end_ns``."""
        return cls(end_ns - int(days * 86_400 * 1_000_000_000), end_ns)

    @classmethod
    def between(cls, start: datetime, end: datetime) -> QualityWindow:
        """The window of two aware datetimes."""
        return cls(epoch_ns(start), epoch_ns(end))

    @property
    def start(self) -> datetime:
        """The start as an aware UTC datetime (microseconds, as PostgreSQL keeps time)."""
        return datetime_from_ns(self.start_ns)

    @property
    def end(self) -> datetime:
        """The end as an aware UTC datetime (microseconds)."""
        return datetime_from_ns(self.end_ns)


def report_event(report: QualityReport, window: QualityWindow, now_ns: int) -> DataQualityReported:
    """The event of a report made at ``now_ns`` on ``window`` (its id fixed by both)."""
    checks = [
        CoverageCheck(name=c.field, group=c.group, present=c.present, total=c.total,
                      coverage=c.ratio, threshold=c.threshold, passed=c.passed)
        for c in report.coverages
    ]  # fmt: skip
    return DataQualityReported(
        event_id=derived_event_id("data-quality", window.start_ns, window.end_ns, now_ns),
        ts_event=now_ns, ts_init=now_ns, window_start=window.start_ns,
        window_end=window.end_ns, checks=checks, passed=report.passed,
    )  # fmt: skip


def run_quality_check(
    database_url: str, window: QualityWindow, thresholds: Thresholds, clock: Clock
) -> DataQualityReported:
    """Count coverage in the database over ``window`` and return the report as an event
    (not yet stored nor published: see ``record_report``)."""
    report = quality_report_between(database_url, window.start, window.end, thresholds)
    return report_event(report, window, clock.now_ns())


def record_report(database_url: str, event: DataQualityReported) -> bool:
    """Store the report as a row of ``data_quality_reports``; False if it was stored before."""
    checks = Jsonb(msgspec.to_builtins(event.checks))
    failed = [check.name for check in event.checks if not check.passed]
    with database.connect(database_url) as conn:
        cursor = conn.execute(
            "INSERT INTO data_quality_reports (time, event_id, window_start, window_end, passed,"
            " failed_checks, checks) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (event_id) DO NOTHING",
            (datetime_from_ns(event.ts_event), event.event_id, datetime_from_ns(event.window_start),
             datetime_from_ns(event.window_end), event.passed, failed, checks),
        )  # fmt: skip
        return cursor.rowcount == 1


def show_no_report_yet(thresholds: Thresholds) -> None:
    """Export every field's threshold, with its coverage and the verdict unknown (NaN), before
    the first report: the series exist from the start, and nothing reads as failed or passed."""
    fields = [("trades", name, thresholds.trades) for name in TRADE_FIELDS]
    fields += [("chains", name, thresholds.chains) for name in CHAIN_FIELDS]
    for group, name, threshold in fields:
        DQ_COVERAGE.labels(group, name).set(math.nan)
        DQ_THRESHOLD.labels(group, name).set(threshold)
    DQ_PASSED.set(math.nan)


def set_gauges(event: DataQualityReported) -> None:
    """Export the report: each coverage and threshold, the verdict and when it was made."""
    for check in event.checks:
        coverage = math.nan if check.coverage is None else check.coverage
        DQ_COVERAGE.labels(check.group, check.name).set(coverage)
        DQ_THRESHOLD.labels(check.group, check.name).set(check.threshold)
    DQ_PASSED.set(1.0 if event.passed else 0.0)
    DQ_REPORTED_AT.set(event.ts_event / 1e9)
