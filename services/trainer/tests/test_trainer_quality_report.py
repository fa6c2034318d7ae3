"""The data-quality report as an event and as Prometheus gauges."""

from __future__ import annotations

import math

import msgspec
from prometheus_client import REGISTRY

from optbus.codec import encode
from optbus.events import DataQualityReported
from optbus_trainer.quality import CHAIN_FIELDS, TRADE_FIELDS, Thresholds, assess
from optbus_trainer.quality_report import (
    QualityWindow,
    report_event,
    set_gauges,
    show_no_report_yet,
)

NOW = 1_796_205_300_000_000_000
WINDOW = QualityWindow.ending(NOW, days=5)
FULL_TRADES = dict.fromkeys(TRADE_FIELDS, 100)
FULL_CHAINS = dict.fromkeys(CHAIN_FIELDS, 1_000)


def _event(trades: dict[str, int], total_trades: int = 100) -> DataQualityReported:
    report = assess(trades, total_trades, FULL_CHAINS, 1_000, Thresholds())
    return report_event(report, WINDOW, NOW)


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_the_report_event_carries_every_check_and_the_verdict() -> None:
    event = _event(FULL_TRADES | {"exit_vega": 90})

    by_name = {check.name: check for check in event.checks}
    assert set(by_name) == {*TRADE_FIELDS, *CHAIN_FIELDS}
    assert (by_name["exit_vega"].coverage, by_name["exit_vega"].passed) == (0.9, False)
    assert by_name["iv"].group == "chains"
    assert event.passed is False
    assert (event.window_start, event.window_end) == (NOW - 5 * 86_400 * 10**9, NOW)


def test_the_report_event_is_valid_on_the_wire() -> None:
    event = _event(FULL_TRADES)

    assert msgspec.json.decode(encode(event), type=DataQualityReported) == event


def test_the_same_report_at_the_same_instant_has_the_same_id() -> None:
    assert _event(FULL_TRADES).event_id == _event(FULL_TRADES).event_id


def test_the_gauges_show_each_coverage_and_the_verdict() -> None:
    set_gauges(_event(FULL_TRADES | {"model_hash": 50}))

    assert _sample("optbus_dq_coverage_ratio", group="trades", check="model_hash") == 0.5
    assert _sample("optbus_dq_threshold_ratio", group="chains", check="bid") == 0.8
    assert _sample("optbus_dq_passed") == 0.0
    assert _sample("optbus_dq_last_report_timestamp_seconds") == NOW / 1e9


def test_an_empty_window_shows_as_not_a_number_and_fails() -> None:
    set_gauges(_event(dict.fromkeys(TRADE_FIELDS, 0), total_trades=0))

    ratio = _sample("optbus_dq_coverage_ratio", group="trades", check="entry_iv")
    assert ratio is not None
    assert math.isnan(ratio)
    assert _sample("optbus_dq_passed") == 0.0


def test_a_passing_report_sets_the_verdict_gauge_to_one() -> None:
    set_gauges(_event(FULL_TRADES))

    assert _sample("optbus_dq_passed") == 1.0


def test_before_the_first_report_every_field_shows_its_threshold_and_no_coverage() -> None:
    show_no_report_yet(Thresholds(trades=0.9, chains=0.7))

    coverage = _sample("optbus_dq_coverage_ratio", group="chains", check="iv")
    verdict = _sample("optbus_dq_passed")
    assert _sample("optbus_dq_threshold_ratio", group="chains", check="iv") == 0.7
    assert _sample("optbus_dq_threshold_ratio", group="trades", check="exit_vega") == 0.9
    assert coverage is not None
    assert math.isnan(coverage)
    assert verdict is not None
    assert math.isnan(verdict)
