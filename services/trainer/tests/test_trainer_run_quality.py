"""Data quality of a stored run: coverage counted on the run's own trades, by hand-made gaps."""

from __future__ import annotations

from datetime import date

import msgspec

from optbus.events import Contract, MarketContext, ModelStamp, TradeClosed
from optbus.features import FEATURE_NAMES
from optbus_trainer.job import run_quality
from optbus_trainer.quality import CHAIN_FIELDS, Thresholds, trade_field_counts

ENTRY_NS = 1_793_677_800 * 1_000_000_000


def _context(ts: int) -> MarketContext:
    return MarketContext(ts=ts, option_price=100.0, iv=0.15, delta=0.5, gamma=0.001, theta=-5.0,
                         vega=10.0, spot=24_000.0, forward=24_010.0, india_vix=14.0, pcr=1.0,
                         open_interest=1_000)  # fmt: skip


def _trade(number: int) -> TradeClosed:
    features = {name: 1.0 for name in FEATURE_NAMES}
    return TradeClosed(
        event_id=f"e{number}", ts_event=ENTRY_NS + 3_600 * 10**9, ts_init=0,
        trade_id=f"t{number}", position_id=f"p{number}", strategy="short_strangle",
        group_id="g", contract=Contract(underlying="NIFTY", expiry=date(2026, 11, 10),
                                        strike=24_000.0, option_type="CE"),
        quantity=-65, entry_price=100.0, exit_price=90.0, entry=_context(ENTRY_NS),
        exit=_context(ENTRY_NS + 3_600 * 10**9),
        model=ModelStamp(ml_score=0.5, model_version="v", model_hash="h", features=features),
        exit_reason="target", gross_pnl=650.0, charges=40.0, net_pnl=610.0,
    )  # fmt: skip


def _with_gaps() -> list[TradeClosed]:
    """Ten trades: one without a model stamp, two without an exit IV, one with an old
    feature set (a feature missing)."""
    trades = [_trade(n) for n in range(10)]
    trades[0] = msgspec.structs.replace(trades[0], model=None)
    for n in (1, 2):
        trades[n] = msgspec.structs.replace(
            trades[n], exit=msgspec.structs.replace(trades[n].exit, iv=None)
        )
    model = trades[3].model
    assert model is not None
    old = {k: v for k, v in model.features.items() if k != FEATURE_NAMES[-1]}
    trades[3] = msgspec.structs.replace(
        trades[3], model=msgspec.structs.replace(model, features=old)
    )
    return trades


def test_each_trade_field_is_counted_where_the_trade_has_it() -> None:
    counts, total = trade_field_counts(_with_gaps())

    assert total == 10
    assert (counts["model_version"], counts["exit_iv"], counts["features"]) == (9, 8, 8)
    assert counts["entry_iv"] == 10


def test_a_run_with_a_field_below_the_threshold_fails_on_that_field() -> None:
    report = run_quality(_with_gaps(), Thresholds(trades=0.85))

    assert not report.passed
    assert {c.field for c in report.failures} == {"exit_iv", "features"}


def test_a_run_is_checked_on_its_trades_alone_without_chain_checks() -> None:
    report = run_quality([_trade(n) for n in range(5)], Thresholds())

    assert report.passed
    assert not {c.field for c in report.coverages} & set(CHAIN_FIELDS)
