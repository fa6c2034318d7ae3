from dataclasses import replace
from datetime import date

from risk_builders import (
    CONFIG,
    FACTS,
    FORWARD,
    NIFTY_LOT,
    SECOND,
    STRIKES,
    TS,
    chain,
    contract,
    env,
    intent,
    leg,
    market_context,
    position,
    released_state,
)

from optbus.events import (
    BrokerStateAdopted,
    Charges,
    CircuitBreakerTripped,
    Fill,
    KillSwitchCommand,
    Order,
    OrderIntent,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    RiskDecision,
    TradeClosed,
)
from optbus.quotes import quote_in_chain
from optbus_risk.circuit import loss_limit
from optbus_risk.fold import command, evolve
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.state import PendingClose, RiskState

ENV = env(TS)
SEGMENT = CONFIG.segments.of("NIFTY")


def _decision(order: OrderIntent, approved: bool = True) -> RiskDecision:
    return RiskDecision(
        event_id=f"d-{order.intent_id}", ts_event=order.ts_event, ts_init=order.ts_event,
        intent=order, approved=approved, checks=[],
    )  # fmt: skip


def _trade(net_pnl: float, ts: int = TS, n: int = 0) -> TradeClosed:
    ctx = market_context(ts)
    return TradeClosed(
        event_id=f"trade-{ts}-{n}", ts_event=ts, ts_init=ts, trade_id=f"t{n}",
        position_id=f"p{n}", strategy="TEST", group_id="g", contract=contract(FORWARD),
        quantity=NIFTY_LOT, entry_price=100.0, exit_price=100.0, entry=ctx, exit=ctx,
        model=None, exit_reason="test", gross_pnl=net_pnl, charges=0.0, net_pnl=net_pnl,
    )  # fmt: skip


def _order(order: OrderIntent, client_order_id: str, quantity: int) -> Order:
    first = order.legs[0]
    return Order(
        event_id=f"o-{client_order_id}", ts_event=TS, ts_init=TS,
        client_order_id=client_order_id, algo_id="ALGO", intent_id=order.intent_id,
        group_id=order.group_id, strategy="TEST", purpose=order.purpose, contract=first.contract,
        side=first.side, quantity=quantity, order_type="market", limit_price=None,
    )  # fmt: skip


def _fill(order: Order, quantity: int) -> Fill:
    charges = Charges(brokerage=0, stt=0, exchange_transaction=0, sebi=0, stamp_duty=0, gst=0)
    return Fill(
        event_id=f"f-{order.client_order_id}-{quantity}", ts_event=TS, ts_init=TS,
        fill_id="f", client_order_id=order.client_order_id, contract=order.contract,
        side=order.side, quantity=quantity, price=100.0, bid=99.5, ask=100.5, charges=charges,
    )  # fmt: skip


def _fold(state: RiskState, *events: object) -> RiskState:
    for event in events:
        state = evolve(state, event, ENV).state  # type: ignore[arg-type]
    return state


def test_a_chain_becomes_the_latest_quote_of_its_contracts() -> None:
    quoted = chain()

    state = _fold(released_state(), quoted)

    assert state.chains[("NIFTY", quoted.snapshot.expiry)] is quoted


def test_an_older_chain_does_not_replace_a_newer_one() -> None:
    newer, older = chain(ts=TS + SECOND), chain(ts=TS)

    state = _fold(released_state(), newer, older)

    assert state.chains[("NIFTY", newer.snapshot.expiry)] is newer


def test_a_position_opened_then_closed_leaves_no_position() -> None:
    held = position(position_id="p1")
    opened = PositionOpened(event_id="po", ts_event=TS, ts_init=TS, position=held)
    closed = PositionClosed(event_id="pc", ts_event=TS, ts_init=TS, position_id="p1")

    assert _fold(released_state(), opened).positions == {"p1": held}
    assert _fold(released_state(), opened, closed).positions == {}


def test_an_adoption_replaces_the_positions_with_the_brokers() -> None:
    held = position(position_id="p1")
    opened = PositionOpened(event_id="po", ts_event=TS, ts_init=TS, position=held)
    broker_short = position(quantity=-NIFTY_LOT, position_id="adopted-1")
    adopted = BrokerStateAdopted(
        event_id="adopt", ts_event=TS, ts_init=TS, operator="ops", reason="broker is right",
        venue="angel-one", differences=["position ..."], positions=[broker_short],
    )  # fmt: skip

    state = _fold(released_state(), opened, adopted)

    assert state.positions == {"adopted-1": broker_short}


def test_closed_trades_add_up_to_the_days_realised_pnl() -> None:
    state = _fold(released_state(), _trade(-100.0, n=1), _trade(250.0, n=2))

    assert state.pnl.realised == 150.0
    assert state.pnl.consecutive_losses == 0


def test_a_trade_that_reaches_the_loss_limit_trips_the_breaker_once() -> None:
    state = released_state()
    first = evolve(state, _trade(-loss_limit(CONFIG), n=1), ENV)
    second = evolve(first.state, _trade(-1.0, n=2), ENV)

    assert [type(e) for e in first.events] == [CircuitBreakerTripped]
    assert second.events == ()


def test_the_losing_streak_trips_the_breaker() -> None:
    streak = CONFIG.circuit_breaker.max_consecutive_losses
    state = _fold(released_state(), *(_trade(-1.0, n=k) for k in range(streak)))

    assert state.pnl.tripped_reason is not None


def test_one_loss_short_of_the_streak_leaves_the_breaker_untripped() -> None:
    streak = CONFIG.circuit_breaker.max_consecutive_losses
    state = _fold(released_state(), *(_trade(-1.0, n=k) for k in range(streak - 1)))

    assert state.pnl.consecutive_losses == streak - 1
    assert state.pnl.tripped_reason is None


def test_a_new_trading_day_starts_with_no_pnl() -> None:
    tomorrow = FACTS.session_open_ns(date(2026, 12, 3))

    state = _fold(released_state(), _trade(-500.0), _trade(10.0, ts=tomorrow, n=1))

    assert state.pnl.realised == 10.0


def test_a_tripped_event_from_the_log_trips_the_breaker() -> None:
    tripped = CircuitBreakerTripped(
        event_id="cb", ts_event=TS, ts_init=TS, reason="replayed", daily_pnl=-1.0,
        consecutive_losses=1,
    )  # fmt: skip

    assert _fold(released_state(), tripped).pnl.tripped_reason == "replayed"


def test_an_approved_decision_records_its_orders_and_working_quantity() -> None:
    order = intent(leg(lots=2))

    state = _fold(released_state(), _decision(order))

    assert state.order_window(SEGMENT).count_within(TS, CONFIG.order_rate.window_ns) == 1
    assert state.working_legs() == [(order.legs[0].contract, 2 * NIFTY_LOT)]


def test_a_decision_folded_twice_counts_once() -> None:
    order = intent()

    state = _fold(released_state(), _decision(order), _decision(order))

    assert state.order_window(SEGMENT).count_within(TS, CONFIG.order_rate.window_ns) == 1


def test_a_rejected_decision_marks_the_intent_seen_without_orders() -> None:
    order = intent()

    state = _fold(released_state(), _decision(order, approved=False))

    assert order.intent_id in state.seen_intents
    assert state.order_window(SEGMENT).stamps == ()


def test_fills_move_working_quantity_out_of_the_book() -> None:
    order = intent(leg(lots=2))
    sent = _order(order, "c1", 2 * NIFTY_LOT)

    state = _fold(released_state(), _decision(order), sent, _fill(sent, NIFTY_LOT))
    assert state.working_legs() == [(order.legs[0].contract, NIFTY_LOT)]
    state = _fold(state, _fill(sent, NIFTY_LOT))
    assert state.working == {}


def test_a_rejected_order_leaves_nothing_working() -> None:
    order = intent()
    sent = _order(order, "c1", NIFTY_LOT)
    rejected = OrderRejected(
        event_id="r", ts_event=TS, ts_init=TS, client_order_id="c1", reason="x"
    )

    state = _fold(released_state(), _decision(order), sent, rejected)

    assert state.working == {}
    assert state.orders == {}


def test_a_rejected_close_stays_pending_and_counts_the_rejection() -> None:
    close = intent(leg(side="SELL"), purpose="close", position_ids=["p1"])
    state = replace(released_state(), pending_closes={"p1": PendingClose(close.intent_id, TS)})

    state = _fold(state, _decision(close, approved=False))

    assert state.pending_closes == {"p1": PendingClose(close.intent_id, TS, rejections=1)}


def test_an_approved_close_clears_the_rejections_in_a_row() -> None:
    close = intent(leg(side="SELL"), purpose="close", position_ids=["p1"])
    pending = PendingClose(close.intent_id, TS, rejections=3)
    state = replace(released_state(), pending_closes={"p1": pending})

    state = _fold(state, _decision(close))

    assert state.pending_closes["p1"].rejections == 0


def test_a_decision_on_another_intent_leaves_a_pending_close_alone() -> None:
    close = intent(leg(side="SELL"), purpose="close", position_ids=["p1"])
    pending = PendingClose("the-monitors-close", TS, rejections=2)
    state = replace(released_state(), pending_closes={"p1": pending})

    state = _fold(state, _decision(close, approved=False))

    assert state.pending_closes == {"p1": pending}


def test_a_strike_the_next_chain_drops_keeps_its_last_quote() -> None:
    dropped = contract(STRIKES[0])
    first, second = chain(), chain(ts=TS + SECOND, strikes=STRIKES[1:])

    state = _fold(released_state(), first, second)

    assert state.delisted_quotes[dropped] == quote_in_chain(first, dropped)
    assert state.marks.quote(dropped) == quote_in_chain(first, dropped)


def test_a_strike_listed_again_is_marked_from_its_chain_again() -> None:
    dropped = contract(STRIKES[0])
    relisted = chain(ts=TS + 2 * SECOND)

    state = _fold(released_state(), chain(), chain(ts=TS + SECOND, strikes=STRIKES[1:]), relisted)

    assert dropped not in state.delisted_quotes
    assert state.marks.quote(dropped) == quote_in_chain(relisted, dropped)


def test_the_last_quotes_of_expired_contracts_are_forgotten() -> None:
    later_expiry = date(2026, 12, 15)
    after_expiry = FACTS.session_open_ns(date(2026, 12, 9))
    chains = (
        chain(),
        chain(ts=TS + SECOND, strikes=STRIKES[1:]),
        chain(ts=after_expiry, expiry=later_expiry),
        chain(ts=after_expiry + SECOND, expiry=later_expiry, strikes=STRIKES[1:]),
    )

    state = _fold(released_state(), *chains)

    assert {c.expiry for c in state.delisted_quotes} == {later_expiry}


def test_a_new_trading_day_forgets_the_ids_seen() -> None:
    today, tomorrow = intent(), intent(ts=FACTS.session_open_ns(date(2026, 12, 3)))

    state = _fold(released_state(), _decision(today), _decision(tomorrow))

    assert set(state.seen_intents) == {tomorrow.intent_id}


def test_a_kill_switch_command_updates_the_state_and_emits_its_event() -> None:
    engage = KillSwitchCommand(action="engage", reason="r", operator="o")

    step = command(released_state(), engage, command_id="c", ts_event=TS, env=ENV)

    assert step.state.kill_switch.halted
    assert len(step.events) == 1


def test_a_kill_switch_event_from_the_log_is_folded() -> None:
    engage = KillSwitchCommand(action="engage", reason="r", operator="o")
    (event,) = command(released_state(), engage, command_id="c", ts_event=TS, env=ENV).events

    state = _fold(RiskState.initial(KillSwitchState.unknown()), event)

    assert state.kill_switch.status == "engaged"
