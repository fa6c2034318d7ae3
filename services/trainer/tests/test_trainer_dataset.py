from __future__ import annotations

from collections.abc import Callable
from datetime import date

import msgspec
import numpy as np
import pytest

from optbus.events import Contract, MarketContext, ModelStamp, TradeClosed, futures_contract
from optbus.features import FEATURE_NAMES
from optbus.market import load_market_facts
from optbus_trainer.dataset import (
    DataRequirements,
    Example,
    InsufficientDataError,
    TrainingSet,
    example_from_trade,
    from_examples,
    from_trades,
)
from optbus_trainer.training import train

MakeSet = Callable[..., TrainingSet]
MakeExamples = Callable[..., list[Example]]

FACTS = load_market_facts()

# 2026-11-03 03:50 UTC = 09:20 IST
_ENTRY_NS = 1_793_677_800 * 1_000_000_000


def _context(ts: int) -> MarketContext:
    return MarketContext(ts=ts, option_price=100.0, iv=0.15, delta=0.5, gamma=0.001,
                         theta=-5.0, vega=10.0, spot=24000.0, forward=24010.0, india_vix=14.0,
                         pcr=1.0, open_interest=1000)  # fmt: skip


def _trade(i: int, net_pnl: float, *, stamped: bool = True) -> TradeClosed:
    features = {name: float(i) for name in FEATURE_NAMES}
    model = ModelStamp(ml_score=0.5, model_version="baseline-v1", model_hash="h", features=features)
    contract = Contract(underlying="NIFTY", expiry=date(2026, 11, 10), strike=24000.0,
                        option_type="CE")  # fmt: skip
    return TradeClosed(
        event_id=f"e{i}", ts_event=_ENTRY_NS + 3600 * 10**9, ts_init=0, trade_id=f"t{i}",
        position_id="p", strategy="short_strangle", group_id="g", contract=contract,
        quantity=-65, entry_price=100.0, exit_price=90.0, entry=_context(_ENTRY_NS),
        exit=_context(_ENTRY_NS + 3600 * 10**9), model=model if stamped else None,
        exit_reason="target", gross_pnl=net_pnl + 40, charges=40.0, net_pnl=net_pnl,
    )  # fmt: skip


def test_a_closed_trade_becomes_one_row_of_entry_features_label_pnl_pct_and_ist_day() -> None:
    data = from_trades([_trade(3, 650.0), _trade(4, -10.0), _trade(5, 1.0, stamped=False)], FACTS)
    assert data.rows == 2
    assert data.x.shape == (2, len(FEATURE_NAMES))
    assert data.x[0].tolist() == [3.0] * len(FEATURE_NAMES)
    assert data.winner.tolist() == [1, 0]
    assert data.pnl_pct[0] == pytest.approx(10.0)  # 650 on a premium of 100 x 65
    assert data.days == (date(2026, 11, 3),)
    assert data.skipped == {"no model stamp": 1}


def test_a_futures_hedge_is_counted_and_left_out() -> None:
    hedge = msgspec.structs.replace(
        _trade(6, 500.0), contract=futures_contract("NIFTY", date(2026, 11, 24))
    )

    data = from_trades([_trade(3, 650.0), hedge], FACTS)

    assert (data.rows, data.skipped) == (1, {"futures hedge": 1})


def test_the_trading_day_is_the_exchange_date_not_the_utc_date() -> None:
    # 2026-11-02 20:00 UTC is already 2026-11-03 01:30 in IST
    late_utc = int(np.datetime64("2026-11-02T20:00:00", "s").astype(np.int64)) * 10**9
    trade = msgspec.structs.replace(_trade(3, 1.0), entry=_context(late_utc))

    assert example_from_trade(trade, FACTS).day == date(2026, 11, 3)


def test_rows_of_another_feature_set_are_counted_and_left_out(
    make_examples: MakeExamples,
) -> None:
    examples = make_examples(days=1, per_day=3)
    odd = examples[0].__class__(features={"only": 1.0}, winner=True, pnl_pct=1.0,
                                day=examples[0].day)  # fmt: skip
    data = from_examples([*examples, odd])
    assert data.rows == 3
    assert data.skipped == {"other feature set": 1}


def test_too_few_trades_is_a_typed_error_that_says_how_many_and_how_many_are_needed(
    make_set: MakeSet,
) -> None:
    data = make_set(days=3, per_day=20)
    with pytest.raises(InsufficientDataError, match=r"60 trades \(at least 200 needed\)") as err:
        data.require(DataRequirements(min_rows=200, min_days=5))
    assert "3 trading days (at least 5 needed)" in str(err.value)


def test_training_on_too_little_data_refuses_with_the_typed_error_not_a_model(
    make_set: MakeSet,
) -> None:
    with pytest.raises(InsufficientDataError, match="not enough data to train"):
        train(make_set(days=2, per_day=50), version="m1")


def test_data_with_one_label_only_is_refused(make_examples: MakeExamples) -> None:
    examples = [e.__class__(features=e.features, winner=True, pnl_pct=1.0, day=e.day)
                for e in make_examples(days=6, per_day=50)]  # fmt: skip
    with pytest.raises(InsufficientDataError, match="only winners"):
        from_examples(examples).require(DataRequirements())
