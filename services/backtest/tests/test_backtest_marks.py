"""The run marked to market: unrealised P&L and Greeks of the latest quotes in the report."""

from __future__ import annotations

from datetime import date

from optbus.events import (
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    Contract,
    MarketContext,
    OptionChainSnapshot,
    Position,
    PositionClosed,
    PositionOpened,
    SideGreeks,
    TradeClosed,
)
from optbus.market import load_market_facts
from optbus_backtest.marks import SAMPLE_INTERVAL_NS, MarkPoint, MarkRecorder
from optbus_backtest.performance import compute_performance
from optbus_backtest.report import render_html

FACTS = load_market_facts()
EXPIRY = date(2026, 12, 8)
T0 = FACTS.session_open_ns(date(2026, 12, 2)) + 3_600 * 10**9
CALL = Contract(underlying="NIFTY", expiry=EXPIRY, strike=26_000.0, option_type="CE")
CONTEXT = MarketContext(
    ts=T0, option_price=100.0, iv=0.14, delta=0.5, gamma=0.001, theta=-9.0, vega=12.0,
    spot=26_000.0, forward=26_040.0, india_vix=13.0, pcr=0.9, open_interest=1_000,
)  # fmt: skip
HELD = Position(
    position_id="p1", strategy="test", group_id="g", contract=CALL, quantity=-65,
    average_price=100.0, entry=CONTEXT, model=None, charges=40.0,
)  # fmt: skip


def _chain(ts: int, bid: float, ask: float, delta: float) -> ChainGreeks:
    side = ChainSide(
        bid=[bid], ask=[ask], last=[bid], bid_size=[500], ask_size=[500], volume=[10],
        open_interest=[1_000],
    )  # fmt: skip
    greeks = SideGreeks(
        iv=[0.14], delta=[delta], gamma=[0.002], theta=[-10.0], vega=[13.0], rho=[1.0],
        iv_status=["ok"],
    )  # fmt: skip
    snapshot = OptionChainSnapshot(
        event_id=f"s{ts}", ts_event=ts, ts_init=ts, underlying="NIFTY", expiry=EXPIRY,
        spot=26_000.0, futures=26_040.0, lot_size=65, strikes=[26_000.0], calls=side, puts=side,
    )  # fmt: skip
    return ChainGreeks(
        event_id=f"c{ts}", ts_event=ts, ts_init=ts, source_event_id=f"s{ts}", snapshot=snapshot,
        model="black76", forward=26_040.0, rate=0.065, time_to_expiry=0.016, calls=greeks,
        puts=greeks, aggregates=ChainAggregates(
            atm_iv=0.14, risk_reversal_25d=None, butterfly_25d=None, pcr_open_interest=1.0,
            pcr_volume=1.0, max_pain=26_000.0,
        ),
    )  # fmt: skip


def _trade(ts: int, net: float) -> TradeClosed:
    return TradeClosed(
        event_id="t1", ts_event=ts, ts_init=ts, trade_id="t1", position_id="p1",
        strategy="test", group_id="g", contract=CALL, quantity=-65, entry_price=100.0,
        exit_price=110.0, entry=CONTEXT, exit=CONTEXT, model=None, exit_reason="stop",
        gross_pnl=net + 80.0, charges=80.0, net_pnl=net,
    )  # fmt: skip


def _recorded() -> MarkRecorder:
    """A short call opened at 100, marked at 109.75-110.25 (mid 110), then closed at 110."""
    recorder = MarkRecorder()
    later = T0 + SAMPLE_INTERVAL_NS
    events = [
        _chain(T0, 99.75, 100.25, 0.5),
        PositionOpened(event_id="po", ts_event=T0, ts_init=T0, position=HELD),
        _chain(later, 109.75, 110.25, 0.6),
        PositionClosed(event_id="pc", ts_event=later + 1, ts_init=later + 1, position_id="p1"),
        _trade(later + 1, -730.0),
    ]
    for event in events:
        recorder.record("", event)
    return recorder


def test_an_open_position_is_sampled_at_its_mark_less_its_charges() -> None:
    marked = _recorded().points[1]
    assert marked.unrealised == (100.0 - 110.0) * 65 - 40.0


def test_the_portfolio_greeks_are_those_of_the_latest_quote_not_of_entry() -> None:
    marked = _recorded().points[1]
    assert (marked.delta, marked.premium) == (-65 * 0.6, 65 * 110.0)


def test_a_closed_trade_moves_its_pnl_from_unrealised_to_realised() -> None:
    closed = _recorded().points[-1]
    assert (closed.realised, closed.unrealised) == (-730.0, 0.0)


def test_the_equity_curve_and_drawdown_include_unrealised_pnl() -> None:
    marks = [
        MarkPoint(T0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        MarkPoint(T0 + 1, 0.0, -690.0, 7_150.0, -39.0, 0.0, 0.0, 0.0),
        MarkPoint(T0 + 2, -730.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    ]
    performance = compute_performance([_trade(T0 + 2, -730.0)], 100_000.0, FACTS, marks=marks)
    assert [level for _, level in performance.equity] == [100_000.0, 99_310.0, 99_270.0]
    assert performance.max_drawdown == -730.0
    assert performance.unrealised[1] == (T0 + 1, -690.0)


def test_the_report_shows_unrealised_pnl() -> None:
    marks = _recorded().points
    performance = compute_performance([_trade(T0, -730.0)], 100_000.0, FACTS, marks=marks)
    page = render_html("run", performance, FACTS)
    assert "<h2>Unrealised P&L</h2>" in page
    assert "unrealised P&amp;L at the end" in page
