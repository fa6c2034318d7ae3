"""Properties of the fill model and of random trading sessions through the engine."""

from __future__ import annotations

from dataclasses import dataclass

from execution_fixtures import CALL, LOT, MS, PUT, T0, approved, chain, engine, intent
from hypothesis import given, settings
from hypothesis import strategies as st

from optbus.events import (
    Event,
    Fill,
    Order,
    OrderAccepted,
    PositionOpened,
    PositionUpdated,
    RiskDecision,
    Side,
    TradeClosed,
)
from optbus_execution.config import SlippageModel
from optbus_execution.engine import ExecutionEngine
from optbus_execution.slippage import fill_price, is_on_tick

TICK = 0.05
MODEL = SlippageModel(spread_fraction=0.0, size_impact=0.5)

_quotes = st.tuples(
    st.integers(min_value=1, max_value=4_000),  # bid in ticks
    st.integers(min_value=1, max_value=40),  # spread in ticks
    st.integers(min_value=1, max_value=50),  # displayed lots
)


@given(quote=_quotes, side=st.sampled_from(["BUY", "SELL"]), data=st.data())
def test_a_bigger_share_of_the_display_never_fills_at_a_better_price(
    quote: tuple[int, int, int], side: Side, data: st.DataObject
) -> None:
    bid_ticks, spread_ticks, lots = quote
    bid, ask = bid_ticks * TICK, (bid_ticks + spread_ticks) * TICK
    small = data.draw(st.integers(min_value=1, max_value=lots))
    large = data.draw(st.integers(min_value=small, max_value=lots))

    prices = [fill_price(side, bid, ask, n * LOT, lots * LOT, TICK, MODEL) for n in (small, large)]

    assert all(is_on_tick(price, TICK) for price in prices)
    if side == "BUY":
        assert ask <= prices[0] + 1e-9 <= prices[1] + 2e-9
        assert prices[1] <= ask + (ask - bid) / 2 + TICK / 2 + 1e-9
    else:
        assert bid >= prices[0] - 1e-9 >= prices[1] - 2e-9
        assert prices[1] >= min(bid - (ask - bid) / 2 - TICK / 2, TICK) - 1e-9


@given(quote=_quotes, side=st.sampled_from(["BUY", "SELL"]), limit_ticks=st.integers(1, 4_100))
def test_a_limit_order_never_fills_beyond_its_limit(
    quote: tuple[int, int, int], side: Side, limit_ticks: int
) -> None:
    bid_ticks, spread_ticks, lots = quote
    bid, ask, limit = bid_ticks * TICK, (bid_ticks + spread_ticks) * TICK, limit_ticks * TICK

    price = fill_price(side, bid, ask, lots * LOT, lots * LOT, TICK, MODEL, limit)

    assert price <= limit + 1e-9 if side == "BUY" else price >= limit - 1e-9


# -- random sessions ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Open:
    side: Side
    lots: int
    put: bool


@dataclass(frozen=True)
class _Close:
    which: int
    lots: int


@dataclass(frozen=True)
class _Move:
    bid_ticks: int
    spread_ticks: int
    size_lots: int


@dataclass(frozen=True)
class _Switch:
    engaged: bool
    flatten: bool


_actions = st.lists(
    st.one_of(
        st.builds(_Open, st.sampled_from(["BUY", "SELL"]), st.integers(1, 40), st.booleans()),
        st.builds(_Close, st.integers(0, 5), st.integers(1, 40)),
        st.builds(_Move, st.integers(20, 4_000), st.integers(1, 20), st.integers(0, 30)),
        st.builds(_Switch, st.booleans(), st.booleans()),
    ),
    max_size=25,
)


def _run(actions: list[object]) -> tuple[ExecutionEngine, list[Event]]:
    e = engine()
    log: list[Event] = e.on_chain(chain(T0))
    at = T0
    for i, action in enumerate(actions):
        at += 150 * MS
        log += _step(e, i, action, at)
    return e, log


def _step(e: ExecutionEngine, i: int, action: object, at: int) -> list[Event]:
    if isinstance(action, _Move):
        bid = action.bid_ticks * 0.05
        ask = round(bid + action.spread_ticks * 0.05, 2)
        size = action.size_lots * LOT
        return e.on_chain(chain(at, bid=bid, ask=ask, bid_size=size, ask_size=size))
    if isinstance(action, _Switch):
        return e.on_kill_switch(action.engaged, action.flatten, reason="random")
    if isinstance(action, _Open):
        contract = PUT if action.put else CALL
        order_intent = intent(action.side, action.lots * LOT, contract=contract, intent_id=f"o{i}")
    else:
        assert isinstance(action, _Close)
        positions = e.positions()
        if not positions:
            return []
        position = positions[action.which % len(positions)]
        side: Side = "SELL" if position.quantity > 0 else "BUY"
        order_intent = intent(
            side, action.lots * LOT, purpose="close", contract=position.contract,
            intent_id=f"c{i}", reason="exit", position_ids=[position.position_id],
        )  # fmt: skip
    decision: RiskDecision = approved(order_intent, e.state.book.market_time_ns)
    return [decision, *e.on_decision(decision)]


@settings(max_examples=200, deadline=None)
@given(actions=_actions)
def test_net_pnl_is_always_gross_less_charges(actions: list[object]) -> None:
    _, log = _run(actions)

    for trade in (ev for ev in log if isinstance(ev, TradeClosed)):
        assert trade.net_pnl == trade.gross_pnl - trade.charges
        assert trade.charges > 0


@settings(max_examples=200, deadline=None)
@given(actions=_actions)
def test_no_order_fills_more_than_its_quantity_and_no_position_changes_sign(
    actions: list[object],
) -> None:
    _, log = _run(actions)

    ordered = {ev.client_order_id: ev.quantity for ev in log if isinstance(ev, Order)}
    filled: dict[str, int] = {}
    for fill in (ev for ev in log if isinstance(ev, Fill)):
        filled[fill.client_order_id] = filled.get(fill.client_order_id, 0) + fill.quantity
    assert all(filled[coid] <= ordered[coid] for coid in filled)
    signs: dict[str, bool] = {}
    for ev in log:
        if isinstance(ev, PositionOpened | PositionUpdated):
            is_long = ev.position.quantity > 0
            assert signs.setdefault(ev.position.position_id, is_long) == is_long


@settings(max_examples=200, deadline=None)
@given(actions=_actions)
def test_no_opening_order_is_accepted_while_the_kill_switch_is_engaged(
    actions: list[object],
) -> None:
    e = engine()
    e.on_chain(chain(T0))
    at = T0
    for i, action in enumerate(actions):
        at += 150 * MS
        halted = e.halted
        events = _step(e, i, action, at)
        accepted = {ev.client_order_id for ev in events if isinstance(ev, OrderAccepted)}
        opens = [ev for ev in events if isinstance(ev, Order) and ev.client_order_id in accepted]
        if halted or (isinstance(action, _Switch) and action.engaged):
            assert all(order.purpose == "close" for order in opens)


@settings(max_examples=100, deadline=None)
@given(actions=_actions)
def test_a_session_replays_to_the_same_events_and_restores_to_the_same_positions(
    actions: list[object],
) -> None:
    first, log = _run(actions)
    _, again = _run(actions)
    restored = engine()

    for event in log:
        restored.fold(event)

    assert again == log
    assert restored.positions() == first.positions()
