"""Marks on each chain: the source of each mark, unrealised P&L, and the breaker that sees it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from risk_builders import (
    CONFIG,
    FACTS,
    FORWARD,
    NIFTY_LOT,
    TS,
    chain,
    contract,
    env,
    market_context,
    position,
    released_state,
)

from optbus.events import (
    CircuitBreakerTripped,
    Event,
    PositionClosed,
    PositionOpened,
    TradeClosed,
)
from optbus.pricing import black76_price
from optbus.quotes import OptionQuote, quote_in_chain
from optbus_risk.circuit import drawdown_limit, loss_limit
from optbus_risk.fold import Step, evolve
from optbus_risk.marking import mark_of
from optbus_risk.state import RiskState

ENV = env(TS)
HELD = contract(FORWARD)
QUOTED = chain()


def _quote() -> OptionQuote:
    quote = quote_in_chain(QUOTED, HELD)
    assert quote is not None
    return quote


def _fold(state: RiskState, *events: Event) -> Step:
    step = Step(state)
    emitted: list[Event] = []
    for event in events:
        step = evolve(step.state, event, ENV)
        emitted += step.events
    return Step(step.state, tuple(emitted))


def _opened(quantity: int, average_price: float) -> PositionOpened:
    held = position(HELD, quantity=quantity, average_price=average_price, position_id="p1")
    return PositionOpened(event_id="po", ts_event=TS, ts_init=TS, position=held)


def _mid() -> float:
    mid = _quote().mid
    assert mid is not None
    return mid


def _trade(net_pnl: float) -> TradeClosed:
    ctx = market_context(TS)
    return TradeClosed(
        event_id="trade", ts_event=TS, ts_init=TS, trade_id="t", position_id="p0",
        strategy="TEST", group_id="g", contract=HELD, quantity=NIFTY_LOT, entry_price=100.0,
        exit_price=100.0, entry=ctx, exit=ctx, model=None, exit_reason="test",
        gross_pnl=net_pnl, charges=0.0, net_pnl=net_pnl,
    )  # fmt: skip


def test_a_two_sided_quote_is_marked_at_its_mid() -> None:
    mark = mark_of(_quote())
    assert mark is not None
    assert (mark.price, mark.source) == (_mid(), "mid")


def test_a_one_sided_quote_is_marked_at_its_last_price() -> None:
    mark = mark_of(replace(_quote(), bid=0.0, last=101.25))
    assert mark is not None
    assert (mark.price, mark.source) == (101.25, "last")


def test_a_quote_with_neither_touch_nor_trade_is_marked_at_the_model_price() -> None:
    quote = replace(_quote(), bid=0.0, ask=0.0, last=0.0)
    assert quote.iv is not None
    mark = mark_of(quote)
    model = black76_price(True, quote.forward, HELD.strike, quote.time_to_expiry, quote.rate,
                          quote.iv)  # fmt: skip
    assert mark is not None
    assert (mark.price, mark.source) == (float(model), "model")


def test_a_quote_without_any_price_or_volatility_has_no_mark() -> None:
    assert mark_of(replace(_quote(), bid=0.0, ask=0.0, last=0.0, iv=None)) is None


def test_each_chain_marks_the_open_positions_and_records_the_source() -> None:
    state = _fold(released_state(), _opened(NIFTY_LOT, 100.0), QUOTED).state
    assert state.position_marks["p1"].source == "mid"
    assert state.pnl.unrealised == (_mid() - 100.0) * NIFTY_LOT


def test_the_breaker_trips_on_an_unrealised_loss_at_the_limit() -> None:
    entry = _mid() + loss_limit(CONFIG) / NIFTY_LOT + 1.0
    step = _fold(released_state(), _opened(NIFTY_LOT, entry), QUOTED)
    assert [type(event) for event in step.events] == [CircuitBreakerTripped]
    assert step.state.pnl.tripped_reason is not None
    assert "unrealised" in step.state.pnl.tripped_reason


def test_an_unrealised_loss_short_of_the_limit_leaves_the_breaker_untripped() -> None:
    entry = _mid() + loss_limit(CONFIG) / NIFTY_LOT / 2
    step = _fold(released_state(), _opened(NIFTY_LOT, entry), QUOTED)
    assert step.events == ()


def test_the_drawdown_limit_trips_on_a_fall_from_the_days_peak() -> None:
    profit = 2 * loss_limit(CONFIG)
    entry = _mid() + drawdown_limit(CONFIG) / NIFTY_LOT + 1.0
    step = _fold(released_state(), _trade(profit), _opened(NIFTY_LOT, entry), QUOTED)
    assert step.state.pnl.total > -loss_limit(CONFIG)
    assert step.state.pnl.tripped_reason is not None
    assert step.state.pnl.tripped_reason.startswith("drawdown")


def test_a_closed_position_leaves_the_unrealised_pnl() -> None:
    closed = PositionClosed(event_id="pc", ts_event=TS, ts_init=TS, position_id="p1")
    state = _fold(released_state(), _opened(NIFTY_LOT, 100.0), QUOTED, closed).state
    assert state.pnl.unrealised == 0.0
    assert state.position_marks == {}


def test_a_position_carried_overnight_counts_only_the_new_days_change() -> None:
    entry = _mid() + loss_limit(CONFIG) / NIFTY_LOT / 2
    yesterday = _fold(released_state(), _opened(NIFTY_LOT, entry), QUOTED).state
    next_open = FACTS.session_open_ns(date(2026, 12, 3)) + 60 * 10**9
    today = _fold(yesterday, chain(next_open)).state
    assert today.pnl.day == date(2026, 12, 3)
    assert round(today.pnl.total, 6) == round(today.pnl.unrealised - yesterday.pnl.unrealised, 6)
