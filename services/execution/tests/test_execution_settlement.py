"""Expiry settlement: positions left open at the close of expiry day, settled to the rupee.

The day, by hand. On expiry day (Tuesday 2026-12-08, charges schedule of 2026-04-01) one lot
(65 units) each, filled at the touch (no slippage) with Rs 20 brokerage an order:

- a short strangle: SELL 26,100 CE and SELL 25,900 PE at the bid, 120.00. Each fill: turnover
  7,800.00; STT 0.15% = 11.70; transaction 0.03503% = 2.73; SEBI = 0.01; GST 18% of
  (20 + 2.73 + 0.01) = 4.09; charges 38.53.
- a long call: BUY 26,000 CE at the ask, 120.50. Turnover 7,832.50; transaction 2.74; SEBI
  0.01; stamp 0.003% = 0.23; GST 18% of 22.75 = 4.10 (4.095 rounded half up); charges 27.08.

The last chain before the close shows NIFTY at 26,140.00: the final settlement price.

- 26,100 CE short is assigned: pays 40 x 65 = 2,600. Gross 7,800 - 2,600 = 5,200.00, net 5,161.47.
- 25,900 PE short expires worthless: gross 7,800.00, net 7,761.47.
- 26,000 CE long is exercised: receives 140 x 65 = 9,100. Gross 9,100 - 7,832.50 = 1,267.50;
  STT on exercise 0.15% of 9,100 = 13.65; charges 27.08 + 13.65 = 40.73; net 1,226.77.
"""

from __future__ import annotations

from execution_fixtures import (
    EXPIRY,
    FACTS,
    LOT,
    SECOND,
    approved,
    chain,
    engine,
    intent,
    of_type,
    submit_and_fill,
)

from optbus.events import (
    Contract,
    EndOfDay,
    Event,
    OrderCancelled,
    PositionClosed,
    PositionSettled,
    TradeClosed,
)
from optbus_execution.config import SlippageModel
from optbus_execution.engine import ExecutionEngine

OPEN_ON_EXPIRY = FACTS.session_open_ns(EXPIRY) + 3_600 * SECOND
CLOSE = FACTS.expiry_close_ns(EXPIRY)
NEXT_SESSION = FACTS.session_open_ns(FACTS.next_trading_day(EXPIRY))
SETTLEMENT_PRICE = 26_140.0
SHORT_CALL = Contract(underlying="NIFTY", expiry=EXPIRY, strike=26_100.0, option_type="CE")
SHORT_PUT = Contract(underlying="NIFTY", expiry=EXPIRY, strike=25_900.0, option_type="PE")
LONG_CALL = Contract(underlying="NIFTY", expiry=EXPIRY, strike=26_000.0, option_type="CE")


def _expiry_day_book() -> ExecutionEngine:
    """The strangle and the long call opened on expiry day, then the day's last chain."""
    e = engine(slippage=SlippageModel(spread_fraction=0.0, size_impact=0.0))
    legs = [("SELL", SHORT_CALL), ("SELL", SHORT_PUT), ("BUY", LONG_CALL)]
    for n, (side, contract) in enumerate(legs):
        at = OPEN_ON_EXPIRY + n * 10 * SECOND
        opening = intent(side, LOT, contract=contract, intent_id=f"open-{n}", ts=at)  # type: ignore[arg-type]
        submit_and_fill(e, opening, at)
    e.on_chain(chain(CLOSE - SECOND, spot=SETTLEMENT_PRICE))
    return e


def _end_of_day() -> EndOfDay:
    at = CLOSE + 60 * SECOND
    return EndOfDay(event_id="eod", ts_event=at, ts_init=at, trading_date=EXPIRY)


def _trades(events: list[Event]) -> dict[Contract, TradeClosed]:
    return {trade.contract: trade for trade in of_type(events, TradeClosed)}


def test_every_leg_held_into_expiry_is_settled_at_the_end_of_day() -> None:
    e = _expiry_day_book()
    events = e.on_end_of_day(_end_of_day())
    assert e.positions() == []
    assert len(of_type(events, PositionSettled)) == len(of_type(events, PositionClosed)) == 3


def test_the_settlement_outcomes_follow_moneyness_at_the_final_settlement_price() -> None:
    events = _expiry_day_book().on_end_of_day(_end_of_day())
    outcomes = {s.contract: s.outcome for s in of_type(events, PositionSettled)}
    assert outcomes == {SHORT_CALL: "assigned", SHORT_PUT: "expired", LONG_CALL: "exercised"}


def test_the_short_call_in_the_money_pays_its_intrinsic_value() -> None:
    trade = _trades(_expiry_day_book().on_end_of_day(_end_of_day()))[SHORT_CALL]
    assert (trade.gross_pnl, trade.charges, trade.net_pnl) == (5_200.0, 38.53, 5_161.47)
    assert trade.exit_price == 40.0


def test_the_short_put_out_of_the_money_expires_worthless() -> None:
    trade = _trades(_expiry_day_book().on_end_of_day(_end_of_day()))[SHORT_PUT]
    assert (trade.gross_pnl, trade.charges, trade.net_pnl) == (7_800.0, 38.53, 7_761.47)


def test_the_long_call_in_the_money_is_exercised_and_pays_stt_on_its_intrinsic_value() -> None:
    events = _expiry_day_book().on_end_of_day(_end_of_day())
    settled = next(s for s in of_type(events, PositionSettled) if s.contract == LONG_CALL)
    trade = _trades(events)[LONG_CALL]
    assert settled.charges.stt == 13.65
    assert (trade.gross_pnl, trade.charges, trade.net_pnl) == (1_267.5, 40.73, 1_226.77)


def test_the_day_nets_to_the_hand_computed_total() -> None:
    trades = _trades(_expiry_day_book().on_end_of_day(_end_of_day())).values()
    assert round(sum(trade.net_pnl for trade in trades), 2) == 14_149.71


def test_a_settled_trade_records_settlement_as_its_exit_at_the_close() -> None:
    trade = _trades(_expiry_day_book().on_end_of_day(_end_of_day()))[LONG_CALL]
    assert trade.exit_kind == "settlement"
    assert trade.exit_reason == "expiry settlement: exercised"
    assert (trade.exit.ts, trade.exit.spot, trade.exit.option_price) == (CLOSE, 26_140.0, 140.0)


def test_the_first_chain_after_the_close_settles_what_no_end_of_day_did() -> None:
    e = _expiry_day_book()
    events = e.on_chain(chain(NEXT_SESSION, spot=26_500.0))
    assert e.positions() == []
    assert {s.settlement_price for s in of_type(events, PositionSettled)} == {SETTLEMENT_PRICE}


def test_nothing_is_settled_before_the_close() -> None:
    e = _expiry_day_book()
    assert of_type(e.on_chain(chain(CLOSE, spot=26_200.0)), PositionSettled) == []
    assert len(e.positions()) == 3


def test_a_redelivered_end_of_day_settles_nothing_twice() -> None:
    e = _expiry_day_book()
    e.on_end_of_day(_end_of_day())
    assert e.on_end_of_day(_end_of_day()) == []


def test_a_working_order_on_an_expired_contract_is_cancelled_before_settlement() -> None:
    e = _expiry_day_book()
    resting = intent("BUY", LOT, contract=LONG_CALL, limit_price=0.05, intent_id="resting",
                     ts=CLOSE - SECOND)  # fmt: skip
    e.on_decision(approved(resting))
    events = e.on_end_of_day(_end_of_day())
    assert [type(event) for event in events[:1]] == [OrderCancelled]
    assert e.working_orders() == []


def test_a_restored_engine_folds_the_settlement_to_no_open_positions() -> None:
    live = _expiry_day_book()
    recorded = live.on_end_of_day(_end_of_day())
    restored = _expiry_day_book()
    for event in recorded:
        restored.fold(event)
    assert restored.positions() == []
