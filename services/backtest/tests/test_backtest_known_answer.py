"""A known answer: a hand-made session with one obvious trade, every rupee computed by hand.

The session (NIFTY, 2026-06-01, expiry 2026-06-30, strikes 24000/25000/26000, forward 25000)
holds four market instants. At 09:30:00 a short strangle made for this test sells 2 lots
(130 units) of the 26000 call and of the 24000 put at their bids; at 09:30:01 both fill at
the touch (no slippage, no latency). At 09:31:00 the call's quote collapses to 27.00/27.50:
its mid, 27.25, is 73.5% below the 103.00 sold, past the risk monitor's 60% target for a
short, so risk closes it with a market buy, which fills at 09:31:01 at the ask, 27.50. The
put stays open. Charges: the 2026-04-01 schedule in force on the day (STT 0.15%).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from optbus.events import Fill, TradeClosed
from optbus_backtest.console import run_command
from optbus_backtest.job import RunOutcome
from optbus_backtest.options import BacktestOptions

HEADER = (
    "type,schema_version,event_id,ts_event,ts_init,underlying,expiry,spot,futures,lot_size,"
    "strike,option_type,bid,ask,last,bid_size,ask_size,volume,open_interest,index,value"
)
T0 = 1_780_286_400_000_000_000  # 2026-06-01 09:30:00 IST (04:00:00 UTC), in ns
SECOND, MINUTE = 10**9, 60 * 10**9
BEFORE = {  # strike: (call bid, call ask, put bid, put ask), Black-76 at 15% rounded
    24000.0: (1086.0, 1089.0, 92.5, 93.0),
    25000.0: (420.5, 422.0, 420.5, 422.0),
    26000.0: (103.0, 103.5, 1096.5, 1100.0),
}
AFTER = {**BEFORE, 26000.0: (27.0, 27.5, 1096.5, 1100.0)}
STRATEGIES = """
[[strategy]]
name = "known_answer"
kind = "short_strangle"
underlyings = ["NIFTY"]
[strategy.params]
lots = 2
min_score = 0.0
entry_after_open_minutes = 0.0
max_days_to_expiry = 35.0
max_adjustments = 0
target_profit = 50.0   # the strategy's own exits out of reach: the risk monitor closes
stop_loss = 50.0
"""

UNITS = 130
CALL_SOLD, CALL_BOUGHT_BACK = 103.00, 27.50


def _chain_rows(
    n: int, ts: int, quotes: dict[float, tuple[float, float, float, float]]
) -> list[str]:
    rows = []
    for strike, (call_bid, call_ask, put_bid, put_ask) in quotes.items():
        for side, bid, ask in (("CE", call_bid, call_ask), ("PE", put_bid, put_ask)):
            rows.append(
                f"md.chain,1,chain-{n},{ts},{ts},NIFTY,2026-06-30,25000.0,25000.0,65,"
                f"{strike},{side},{bid},{ask},{(bid + ask) / 2},1300,1300,0,100000,,"
            )
    rows.append(f"md.vix,1,vix-{n},{ts},{ts},,,,,,,,,,,,,,,INDIAVIX,13.5")
    return rows


def _session(path: Path) -> Path:
    instants = [(T0, BEFORE), (T0 + SECOND, BEFORE), (T0 + MINUTE, AFTER),
                (T0 + MINUTE + SECOND, AFTER)]  # fmt: skip
    rows = [HEADER]
    for n, (ts, quotes) in enumerate(instants):
        rows += _chain_rows(n, ts, quotes)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _run(tmp_path: Path, **changes: object) -> RunOutcome:
    strategies = tmp_path / "known-answer.toml"
    strategies.write_text(STRATEGIES, encoding="utf-8")
    options = BacktestOptions(
        file=_session(tmp_path / "known-answer.csv"), strategies=strategies, latency_ms=0.0,
        slippage_spread_fraction=0.0, slippage_size_impact=0.0, out_dir=tmp_path,
        run_id="known-answer", store=False, **changes,  # type: ignore[arg-type]
    )  # fmt: skip
    return run_command(options, Console(quiet=True))


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    return _run(tmp_path_factory.mktemp("known-answer"))


def _trade(outcome: RunOutcome) -> TradeClosed:
    (trade,) = [e for e in outcome.result.trade_log.events if isinstance(e, TradeClosed)]
    return trade


def test_the_strangle_sells_both_legs_at_their_bids_and_only_the_call_is_bought_back(
    outcome: RunOutcome,
) -> None:
    fills = [(f.contract.strike, f.contract.option_type, f.side, f.quantity, f.price)
             for f in outcome.result.trade_log.events if isinstance(f, Fill)]  # fmt: skip
    assert fills == [
        (26000.0, "CE", "SELL", UNITS, 103.00),
        (24000.0, "PE", "SELL", UNITS, 92.50),
        (26000.0, "CE", "BUY", UNITS, 27.50),
    ]


def test_the_risk_monitor_closes_the_call_at_its_target_at_the_ask(outcome: RunOutcome) -> None:
    trade = _trade(outcome)
    assert trade.contract.strike == 26000.0
    assert trade.contract.option_type == "CE"
    assert trade.quantity == -UNITS
    assert trade.entry_price == CALL_SOLD
    assert trade.exit_price == CALL_BOUGHT_BACK
    assert trade.exit_reason.startswith("monitor target")
    assert trade.exit.ts == T0 + MINUTE + SECOND


def test_the_gross_pnl_is_the_premium_kept(outcome: RunOutcome) -> None:
    assert _trade(outcome).gross_pnl == round((CALL_SOLD - CALL_BOUGHT_BACK) * UNITS, 2) == 9_815.00


def _sell_charges(stt: float) -> float:
    turnover = CALL_SOLD * UNITS  # 13,390.00
    assert turnover == 13_390.00
    brokerage = 20.00
    transaction = 4.69  # 0.03503% of 13,390.00 = 4.6905...
    sebi = 0.01  # Rs 10 per crore of 13,390.00 = 0.01339
    gst = 4.45  # 18% of (20.00 + 4.69 + 0.01) = 4.446
    return brokerage + stt + transaction + sebi + gst


def _buy_charges() -> float:
    turnover = CALL_BOUGHT_BACK * UNITS  # 3,575.00
    assert turnover == 3_575.00
    brokerage = 20.00
    transaction = 1.25  # 0.03503% of 3,575.00 = 1.2523...
    sebi = 0.00  # 0.003575
    stamp = 0.11  # 0.003% of 3,575.00 = 0.10725
    gst = 3.83  # 18% of (20.00 + 1.25 + 0.00) = 3.825, half up
    return brokerage + transaction + sebi + stamp + gst


def test_the_charges_are_those_of_the_schedule_in_force_item_by_item(outcome: RunOutcome) -> None:
    stt = 20.09  # 0.15% of 13,390.00 = 20.085, half up (2026-04-01 schedule)
    sell, buy = _sell_charges(stt), _buy_charges()
    assert round(sell, 2) == 49.24
    assert round(buy, 2) == 25.19
    trade = _trade(outcome)
    assert trade.charges == round(sell + buy, 2) == 74.43
    assert trade.net_pnl == round(9_815.00 - 74.43, 2) == 9_740.57


def test_the_fills_itemise_the_same_charges(outcome: RunOutcome) -> None:
    sold, _, bought = [f for f in outcome.result.trade_log.events if isinstance(f, Fill)]
    assert (sold.charges.brokerage, sold.charges.stt, sold.charges.exchange_transaction,
            sold.charges.sebi, sold.charges.stamp_duty, sold.charges.gst) == (
        20.00, 20.09, 4.69, 0.01, 0.00, 4.45)  # fmt: skip
    assert (bought.charges.brokerage, bought.charges.stt, bought.charges.exchange_transaction,
            bought.charges.sebi, bought.charges.stamp_duty, bought.charges.gst) == (
        20.00, 0.00, 1.25, 0.00, 0.11, 3.83)  # fmt: skip


def test_a_pinned_older_schedule_charges_its_own_stt(tmp_path: Path) -> None:
    trade = _trade(_run(tmp_path, charges_schedule="2024-10-01"))
    stt = 13.39  # 0.10% of 13,390.00
    assert trade.charges == round(_sell_charges(stt) + _buy_charges(), 2) == 67.73


def test_the_report_shows_the_one_trade(outcome: RunOutcome) -> None:
    assert outcome.performance.trades == 1
    assert outcome.performance.net_pnl == 9_740.57
    assert outcome.performance.win_rate == 1.0
    assert "9,740.57" in outcome.report.read_text(encoding="utf-8")
