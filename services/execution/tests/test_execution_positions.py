"""Positions and closed trades folded from fills: contexts, exit prices, P&L and charges."""

from __future__ import annotations

from execution_fixtures import (
    LOT,
    MODEL,
    PUT,
    SECOND,
    T0,
    approved,
    chain,
    engine,
    intent,
    of_type,
    submit_and_fill,
    vix,
)

from optbus.events import (
    Event,
    Fill,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    TradeClosed,
)
from optbus_execution.engine import ExecutionEngine

LATER = T0 + 60 * SECOND


def _open(e: ExecutionEngine, side: str = "BUY", lots: int = 1, **quote: float) -> str:
    events = submit_and_fill(e, intent(side, lots * LOT), T0, **quote)  # type: ignore[arg-type]
    return of_type(events, PositionOpened)[0].position.position_id


def _close(
    e: ExecutionEngine, position_id: str, side: str = "SELL", lots: int = 1, **quote: float
) -> list[Event]:
    close = intent(
        side, lots * LOT, purpose="close", intent_id="exit-1", reason="target hit",  # type: ignore[arg-type]
        position_ids=[position_id],
    )  # fmt: skip
    return submit_and_fill(e, close, LATER, **quote)


def _trade(events: list[Event]) -> TradeClosed:
    return next(event for event in events if isinstance(event, TradeClosed))


def test_a_first_fill_opens_a_position_with_its_entry_context_and_model() -> None:
    e = engine()
    e.on_vix(vix(T0))

    events = submit_and_fill(e, intent("BUY", LOT), T0, bid=120.0, ask=120.5)

    position = of_type(events, PositionOpened)[0].position
    assert (position.quantity, position.average_price, position.model) == (LOT, 120.5, MODEL)
    entry = position.entry
    assert (entry.option_price, entry.iv, entry.delta, entry.india_vix) == (120.25, 0.14, 0.5, 13.5)
    assert (entry.spot, entry.forward, entry.pcr, entry.open_interest) == (
        26_050.0, 26_085.0, 0.9, 50_000,
    )  # fmt: skip


def test_a_sell_to_open_makes_a_short_position() -> None:
    e = engine()

    position_id = _open(e, "SELL", lots=3)

    assert [(p.position_id, p.quantity) for p in e.positions()] == [(position_id, -195)]


def test_a_second_fill_of_the_same_group_updates_the_average_price() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", 25 * LOT), T0, ask_size=20 * LOT)

    events = e.on_chain(chain(T0 + SECOND, bid=120.5, ask=121.0))

    update = of_type(events, PositionUpdated)[0].position
    assert update.quantity == 25 * LOT
    assert update.average_price == (120.75 * 20 + 121.05 * 5) / 25


def test_the_close_is_priced_from_the_quote_at_close_time_not_the_entry() -> None:
    e = engine()
    position_id = _open(e, bid=120.0, ask=120.5)

    trade = _trade(_close(e, position_id, bid=150.0, ask=150.5))

    assert (trade.entry_price, trade.exit_price) == (120.5, 150.0)
    assert (trade.exit.ts, trade.exit.option_price) == (LATER + 2 * 100_000_000, 150.25)


def test_a_long_round_trip_books_the_price_rise_as_gross_profit() -> None:
    e = engine()
    position_id = _open(e, ask=120.5)

    trade = _trade(_close(e, position_id, bid=135.25, ask=135.75))

    assert trade.gross_pnl == (135.25 - 120.5) * LOT


def test_a_short_round_trip_books_the_price_fall_as_gross_profit() -> None:
    e = engine()
    position_id = _open(e, "SELL", bid=120.0, ask=120.5)

    trade = _trade(_close(e, position_id, "BUY", bid=99.5, ask=100.0))

    assert (trade.quantity, trade.gross_pnl) == (-LOT, (120.0 - 100.0) * LOT)


def test_a_short_that_rises_is_a_gross_loss() -> None:
    e = engine()
    position_id = _open(e, "SELL", bid=120.0, ask=120.5)

    trade = _trade(_close(e, position_id, "BUY", bid=139.5, ask=140.0))

    assert trade.gross_pnl == -(140.0 - 120.0) * LOT


def test_net_pnl_is_gross_less_entry_and_exit_charges_exactly() -> None:
    e = engine()
    position_id = _open(e, ask=120.5)
    entry_charges = e.positions()[0].charges

    events = _close(e, position_id, bid=135.25, ask=135.75)

    trade = _trade(events)
    exit_charges = sum(f.charges.total for f in events if isinstance(f, Fill))
    assert trade.charges == round(entry_charges + exit_charges, 2)
    assert trade.net_pnl == trade.gross_pnl - trade.charges


def test_the_trade_keeps_the_entry_model_and_the_close_intents_reason() -> None:
    e = engine()
    position_id = _open(e)

    trade = _trade(_close(e, position_id))

    assert (trade.model, trade.exit_reason) == (MODEL, "target hit")


def test_a_position_back_to_zero_is_closed_and_leaves_the_book() -> None:
    e = engine()
    position_id = _open(e)

    events = _close(e, position_id)

    assert [ev.position_id for ev in events if isinstance(ev, PositionClosed)] == [position_id]
    assert e.positions() == []


def test_a_partial_close_updates_the_position_and_closes_no_trade() -> None:
    e = engine()
    position_id = _open(e, lots=2)

    events = _close(e, position_id, lots=1)

    assert of_type(events, TradeClosed) == []
    assert [p.quantity for p in e.positions()] == [LOT]


def test_a_close_larger_than_the_position_is_cut_to_the_position() -> None:
    e = engine()
    position_id = _open(e, lots=2)

    events = _close(e, position_id, lots=5)

    assert sum(f.quantity for f in events if isinstance(f, Fill)) == 2 * LOT
    assert e.positions() == []


def test_a_close_on_the_wrong_side_is_refused() -> None:
    e = engine()
    position_id = _open(e, "BUY")

    events = _close(e, position_id, "BUY")

    assert [r.reason for r in events if isinstance(r, OrderRejected)] == [
        "a BUY would not reduce the position"
    ]


def test_a_second_close_while_the_first_is_working_is_refused() -> None:
    e = engine()
    position_id = _open(e)
    e.on_chain(chain(LATER))
    first = intent("SELL", LOT, purpose="close", intent_id="c1", position_ids=[position_id])
    second = intent("SELL", LOT, purpose="close", intent_id="c2", position_ids=[position_id])
    e.on_decision(approved(first, LATER))

    events = e.on_decision(approved(second, LATER))

    assert of_type(events, OrderRejected)[0].reason == "the position is already being closed"


def test_the_close_of_one_contract_leaves_another_position_alone() -> None:
    e = engine()
    call_id = _open(e)
    put_intent = intent("BUY", LOT, contract=PUT, intent_id="put-open")
    submit_and_fill(e, put_intent, T0 + SECOND)

    _close(e, call_id)

    assert [(p.contract, p.quantity) for p in e.positions()] == [(PUT, LOT)]
