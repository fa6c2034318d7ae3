"""Index futures: filled at the chain's futures price, charged as futures, settled at expiry.

The day, by hand. On the monthly expiry (Tuesday 2026-12-29, charges schedule of 2026-04-01)
a hedge SELLs one lot (65 units) of the NIFTY December future. The chain shows spot 26,050.00
and the future at 26,090.00; with no slippage it fills there. Turnover 1,695,850.00: STT 0.05%
= 847.925 -> 847.93; transaction 0.00173% = 29.338 -> 29.34; SEBI 10 a crore = 1.70; no stamp
duty on a sale; brokerage 20; GST 18% of (20 + 29.34 + 1.70) = 9.1872 -> 9.19; charges 908.16.

The last chain before the close shows NIFTY at 26,140.00, the final settlement price. The
future settles there: gross (26,090 - 26,140) x 65 = -3,250.00, no charge on settlement,
net -4,158.16.
"""

from __future__ import annotations

from datetime import date

from execution_fixtures import FACTS, LATENCY, LOT, SECOND, approved, chain, engine, intent, of_type

from optbus.events import EndOfDay, Fill, PositionSettled, TradeClosed, futures_contract
from optbus_execution.config import SlippageModel
from optbus_execution.engine import ExecutionEngine

MONTHLY = date(2026, 12, 29)
FUTURE = futures_contract("NIFTY", MONTHLY)
OPEN = FACTS.session_open_ns(MONTHLY) + 3_600 * SECOND
CLOSE = FACTS.expiry_close_ns(MONTHLY)


def _short_future() -> tuple[ExecutionEngine, list[Fill]]:
    e = engine(slippage=SlippageModel(spread_fraction=0.0, size_impact=0.0))
    hedge = intent("SELL", LOT, contract=FUTURE, intent_id="hedge", ts=OPEN)
    e.on_chain(chain(OPEN, expiry=MONTHLY))
    events = e.on_decision(approved(hedge, OPEN))
    events += e.on_chain(chain(OPEN + 2 * LATENCY, expiry=MONTHLY))
    return e, of_type(events, Fill)


def _settled() -> list[object]:
    e, _ = _short_future()
    e.on_chain(chain(CLOSE - SECOND, spot=26_140.0, expiry=MONTHLY))
    at = CLOSE + 60 * SECOND
    return list(e.on_end_of_day(EndOfDay(event_id="eod", ts_event=at, ts_init=at,
                                         trading_date=MONTHLY)))  # fmt: skip


def test_the_december_future_is_the_one_a_december_weekly_chain_quotes() -> None:
    assert FACTS.futures_expiry("NIFTY", date(2026, 12, 8)) == MONTHLY


def test_a_future_fills_at_the_chain_s_futures_price() -> None:
    _, fills = _short_future()

    assert [(f.contract, f.side, f.quantity, f.price) for f in fills] == [
        (FUTURE, "SELL", LOT, 26_090.0)
    ]


def test_a_future_s_fill_pays_the_futures_charges() -> None:
    _, (fill,) = _short_future()

    assert (fill.charges.stt, fill.charges.exchange_transaction, fill.charges.sebi) == (
        847.93, 29.34, 1.70,
    )  # fmt: skip
    assert (fill.charges.stamp_duty, fill.charges.gst, round(fill.charges.total, 2)) == (
        0.0, 9.19, 908.16,
    )  # fmt: skip


def test_a_future_held_into_expiry_settles_at_the_final_settlement_price_without_charges() -> None:
    events = _settled()

    (settled,) = [e for e in events if isinstance(e, PositionSettled)]
    assert (settled.outcome, settled.settlement_price, settled.intrinsic_value) == (
        "settled", 26_140.0, 26_140.0,
    )  # fmt: skip
    assert settled.charges.total == 0.0


def test_the_settled_future_s_trade_nets_the_hand_computed_loss() -> None:
    (trade,) = [e for e in _settled() if isinstance(e, TradeClosed)]

    assert (trade.gross_pnl, round(trade.charges, 2), round(trade.net_pnl, 2)) == (
        -3_250.0, 908.16, -4_158.16,
    )  # fmt: skip
    assert (trade.exit_kind, trade.exit_reason) == ("settlement", "expiry settlement: settled")
