"""A restarted engine rebuilds its state by folding the trading log (risk's and its own)."""

from __future__ import annotations

from execution_fixtures import (
    LOT,
    MS,
    PUT,
    SECOND,
    T0,
    approved,
    chain,
    engine,
    intent,
    of_type,
    submit_and_fill,
)

from optbus.events import Event, TradeClosed
from optbus_execution.engine import ExecutionEngine


def _session() -> tuple[ExecutionEngine, list[Event]]:
    """An engine after a long call (partly filled) and a short put, and its trading log."""
    e = engine()
    log: list[Event] = e.on_chain(chain(T0, ask_size=0))
    for order_intent in (
        intent("BUY", 25 * LOT, intent_id="a"),
        intent("SELL", 2 * LOT, intent_id="b", contract=PUT),
    ):
        decision = approved(order_intent, T0)
        log.append(decision)
        log += e.on_decision(decision)
    log += e.on_chain(chain(T0 + 200 * MS, ask_size=20 * LOT))
    return e, log


def _restored(log: list[Event]) -> ExecutionEngine:
    restored = engine()
    for event in log:
        restored.fold(event)
    return restored


def test_positions_are_rebuilt_from_the_trading_log() -> None:
    original, log = _session()

    restored = _restored(log)

    assert restored.positions() == original.positions()
    assert [p.quantity for p in restored.positions()] == [20 * LOT, -2 * LOT]


def test_working_orders_are_rebuilt_with_what_is_left_to_fill() -> None:
    _, log = _session()

    restored = _restored(log)

    assert [t.remaining for t in restored.state.working.tickets()] == [5 * LOT]


def test_a_restored_engine_goes_on_exactly_as_the_original_would() -> None:
    original, log = _session()
    restored = _restored(log)
    next_quote = chain(T0 + 2 * SECOND, bid=130.0, ask=130.5)

    assert restored.on_chain(next_quote) == original.on_chain(next_quote)


def test_a_restored_engine_flattens_exactly_as_the_original_would() -> None:
    original, log = _session()
    restored = _restored(log)
    for e in (original, restored):
        e.on_chain(chain(T0 + 2 * SECOND, ask_size=0))

    flattened = restored.on_kill_switch(engaged=True, flatten=True, reason="drill")

    assert flattened == original.on_kill_switch(engaged=True, flatten=True, reason="drill")


def test_a_restored_engine_ignores_a_redelivered_decision() -> None:
    _, log = _session()
    restored = _restored(log)
    restored.on_chain(chain(T0 + 2 * SECOND))

    assert restored.on_decision(approved(intent("BUY", 25 * LOT, intent_id="a"))) == []


def test_a_restored_engine_closes_a_position_into_a_trade_with_its_entry() -> None:
    _, log = _session()
    restored = _restored(log)
    short = restored.positions()[1]
    close = intent(
        "BUY", 2 * LOT, purpose="close", contract=PUT, intent_id="c", reason="target",
        position_ids=[short.position_id],
    )  # fmt: skip

    events = submit_and_fill(restored, close, T0 + 3 * SECOND, bid=100.0, ask=100.5)

    trade = of_type(events, TradeClosed)[0]
    assert (trade.entry, trade.exit_reason) == (short.entry, "target")
    # 2 of 20 lots cost a tick each way: sold at 119.95, bought back at 100.55.
    assert trade.gross_pnl == round((119.95 - 100.55) * 2 * LOT, 2)
