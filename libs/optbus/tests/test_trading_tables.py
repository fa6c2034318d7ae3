from datetime import date

import msgspec

from optbus.events import (
    Contract,
    KillSwitchEngaged,
    MarketContext,
    ModelStamp,
    TradeClosed,
    VolatilityIndexTick,
)
from optbus.trading_tables import JSON_COLUMNS, trading_row

CONTRACT = Contract(underlying="NIFTY", expiry=date(2026, 12, 8), strike=26_000.0, option_type="CE")


def _context(ts: int, price: float) -> MarketContext:
    return MarketContext(
        ts=ts, option_price=price, iv=0.14, delta=0.5, gamma=0.001, theta=-9.0, vega=12.0,
        spot=26_010.0, forward=26_040.0, india_vix=13.2, pcr=0.9, open_interest=120_000,
    )  # fmt: skip


def _trade() -> TradeClosed:
    return TradeClosed(
        event_id="t-1", ts_event=2_000, ts_init=2_000, trade_id="t-1", position_id="p-1",
        strategy="short_strangle", group_id="g-1", contract=CONTRACT, quantity=-65,
        entry_price=120.0, exit_price=100.0, entry=_context(1_000, 120.0),
        exit=_context(2_000, 100.0),
        model=ModelStamp(ml_score=0.6, model_version="baseline-v1", model_hash="abc",
                         features={"delta": 0.5}),
        exit_reason="target", gross_pnl=1_300.0, charges=61.5, net_pnl=1_238.5,
    )  # fmt: skip


def test_a_closed_trade_fills_every_entry_and_exit_column() -> None:
    row = trading_row(_trade())

    assert row is not None
    assert row.table == "trades"
    assert all(value is not None for key, value in row.values.items() if "_" in key)


def test_a_closed_trade_row_keeps_its_pnl_and_charges() -> None:
    row = trading_row(_trade())

    assert row is not None
    assert (row.values["gross_pnl"], row.values["charges"], row.values["net_pnl"]) == (
        1_300.0, 61.5, 1_238.5,
    )  # fmt: skip


def test_a_kill_switch_engagement_is_a_row_with_operator_and_reason() -> None:
    event = KillSwitchEngaged(event_id="k", ts_event=1, ts_init=1, operator="asha",
                              reason="runaway", flatten=True)  # fmt: skip

    row = trading_row(event)

    assert row is not None
    assert (row.table, row.values["action"], row.values["operator"]) == (
        "kill_switch_events", "engage", "asha",
    )  # fmt: skip


def test_market_data_has_no_trading_row() -> None:
    assert trading_row(VolatilityIndexTick(event_id="v", ts_event=1, ts_init=1,
                                           index="INDIAVIX", value=13.0)) is None  # fmt: skip


def test_a_json_column_holds_a_plain_mapping_that_any_writer_can_adapt() -> None:
    row = trading_row(_trade())

    assert row is not None
    assert JSON_COLUMNS & set(row.values) == {"features"}
    assert row.values["features"] == {"delta": 0.5}


def test_a_trade_closed_by_fills_is_stored_as_a_fill_exit() -> None:
    row = trading_row(_trade())

    assert row is not None
    assert row.values["exit_kind"] == "fill"


def test_a_trade_closed_by_settlement_is_stored_as_a_settlement_exit() -> None:
    settled = msgspec.structs.replace(_trade(), exit_reason="expiry settlement: assigned")
    row = trading_row(settled)

    assert row is not None
    assert row.values["exit_kind"] == "settlement"
