from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_builders import (
    CONFIG,
    DAY,
    FACTS,
    FORWARD,
    NIFTY_FREEZE,
    NIFTY_LOT,
    OPEN_NS,
    SECOND,
    TS,
    chain,
    ctx,
    env,
    intent,
    leg,
    released_state,
)

from optbus.events import RiskDecision
from optbus_risk.book import book_after, exposure
from optbus_risk.checks import (
    check_circuit_breaker,
    check_duplicate,
    check_freeze_quantity,
    check_intent_age,
    check_kill_switch,
    check_lot_size,
    check_max_notional,
    check_max_premium,
    check_order_rate,
    check_portfolio_delta,
    check_price_band,
    check_trading_hours,
    price_band,
)
from optbus_risk.circuit import DailyPnl, loss_limit
from optbus_risk.fold import evolve
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.state import OrderWindow

FAST = settings(max_examples=80, deadline=None)
quantities = st.integers(min_value=-NIFTY_LOT, max_value=4 * NIFTY_FREEZE)
CHAIN_STATE = released_state(chain())


@FAST
@given(st.lists(quantities, min_size=1, max_size=4))
def test_lot_size_passes_exactly_when_every_leg_is_a_positive_whole_number_of_lots(
    sizes: list[int],
) -> None:
    verdict = check_lot_size(intent(*(leg(quantity=q) for q in sizes)), ctx(CHAIN_STATE))

    assert verdict.passed == all(q > 0 and q % NIFTY_LOT == 0 for q in sizes)


@FAST
@given(st.integers(min_value=1, max_value=20 * NIFTY_FREEZE))
def test_freeze_quantity_passes_any_size_while_slicing_is_allowed(quantity: int) -> None:
    assert check_freeze_quantity(intent(leg(quantity=quantity)), ctx(CHAIN_STATE)).passed


@FAST
@given(st.floats(min_value=0.05, max_value=5_000.0))
def test_price_band_contains_its_reference_price(reference: float) -> None:
    low, high = price_band(reference, CONFIG.price_band)

    assert low <= reference <= high


@FAST
@given(st.floats(min_value=0.0, max_value=3.0))
def test_price_band_passes_a_limit_exactly_when_it_lies_in_the_band(factor: float) -> None:
    quote = CHAIN_STATE.chains[("NIFTY", chain().snapshot.expiry)].snapshot
    reference = quote.calls.last[quote.strikes.index(FORWARD)]
    limit = reference * factor
    low, high = price_band(reference, CONFIG.price_band)

    verdict = check_price_band(intent(leg(limit_price=limit)), ctx(CHAIN_STATE))

    assert verdict.passed == (limit > 0 and low <= limit <= high)


@FAST
@given(st.integers(min_value=1, max_value=40), st.floats(min_value=0.05, max_value=2_000.0))
def test_max_premium_passes_exactly_when_quantity_times_price_is_within_the_limit(
    lots: int, price: float
) -> None:
    verdict = check_max_premium(intent(leg(lots=lots, limit_price=price)), ctx(CHAIN_STATE))

    assert verdict.passed == (lots * NIFTY_LOT * price <= CONFIG.orders.max_premium_per_order)


@FAST
@given(st.sampled_from(["engaged", "unknown"]), st.integers(min_value=1, max_value=5))
def test_a_halted_switch_refuses_every_open_whatever_its_size(status: str, lots: int) -> None:
    state = replace(CHAIN_STATE, kill_switch=KillSwitchState(status=status))  # type: ignore[arg-type]

    assert not check_kill_switch(intent(leg(lots=lots)), ctx(state)).passed


@FAST
@given(
    st.floats(min_value=-2 * loss_limit(CONFIG), max_value=loss_limit(CONFIG)),
    st.integers(min_value=0, max_value=2 * CONFIG.circuit_breaker.max_consecutive_losses),
)
def test_circuit_breaker_passes_an_open_exactly_when_both_limits_hold(
    realised: float, losses: int
) -> None:
    pnl = DailyPnl(day=DAY, realised=realised, consecutive_losses=losses)

    verdict = check_circuit_breaker(intent(), ctx(replace(CHAIN_STATE, pnl=pnl)))

    within = (
        realised > -loss_limit(CONFIG) and losses < CONFIG.circuit_breaker.max_consecutive_losses
    )
    assert verdict.passed == within


@FAST
@given(st.integers(min_value=-SECOND, max_value=3 * CONFIG.max_intent_age_ns))
def test_intent_age_passes_exactly_when_the_intent_is_young_enough(age_ns: int) -> None:
    verdict = check_intent_age(intent(ts=TS), ctx(CHAIN_STATE, now_ns=TS + age_ns))

    assert verdict.passed == (age_ns <= CONFIG.max_intent_age_ns)


@FAST
@given(st.booleans())
def test_an_intent_passes_the_duplicate_check_once_and_never_after_its_decision(
    approved: bool,
) -> None:
    order = intent()
    decision = RiskDecision(
        event_id="d", ts_event=TS, ts_init=TS, intent=order, approved=approved, checks=[]
    )
    before = check_duplicate(order, ctx(CHAIN_STATE)).passed

    after_state = evolve(CHAIN_STATE, decision, env()).state

    assert before
    assert not check_duplicate(order, ctx(after_state)).passed


@FAST
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=SECOND), st.integers(min_value=1, max_value=12)
        ),
        max_size=30,
    )
)
def test_orders_the_rate_check_lets_through_never_exceed_the_limit_in_any_window(
    arrivals: list[tuple[int, int]],
) -> None:
    window_ns = CONFIG.order_rate.window_ns
    state, t = CHAIN_STATE, TS
    segment = CONFIG.segments.of("NIFTY")
    for gap, count in arrivals:
        t += gap
        order = intent(leg(quantity=count * NIFTY_FREEZE), ts=t)
        if check_order_rate(order, ctx(state, now_ns=t)).passed:
            windows = {segment: state.order_window(segment).record(t, count, window_ns)}
            state = replace(state, order_windows=windows)
        stamps = state.order_window(segment).stamps
        assert all(
            sum(n for s, n in stamps if end - window_ns < s <= end) <= CONFIG.order_rate.max_orders
            for end, _ in stamps
        )


def test_a_window_keeps_its_times_in_order_even_when_an_order_is_stamped_earlier() -> None:
    window = OrderWindow().record(TS, 1, SECOND).record(TS - 10, 1, SECOND)

    assert [stamp for stamp, _ in window.stamps] == [TS, TS]


@FAST
@given(st.integers(min_value=-3_600 * SECOND, max_value=10 * 3_600 * SECOND))
def test_trading_hours_pass_exactly_between_the_open_and_the_close(offset_ns: int) -> None:
    at = OPEN_NS + offset_ns

    verdict = check_trading_hours(intent(ts=at), ctx(CHAIN_STATE))

    assert verdict.passed == (OPEN_NS <= at < FACTS.session_close_ns(DAY))


@FAST
@given(st.integers(min_value=1, max_value=10))
def test_max_notional_passes_exactly_when_quantity_times_spot_is_within_the_limit(
    lots: int,
) -> None:
    spot = chain().snapshot.spot

    verdict = check_max_notional(intent(leg(lots=lots)), ctx(CHAIN_STATE))

    assert verdict.passed == (lots * NIFTY_LOT * spot <= CONFIG.orders.max_notional_per_order)


@FAST
@given(st.integers(min_value=1, max_value=30), st.sampled_from(["CE", "PE"]))
def test_portfolio_delta_passes_a_fresh_book_exactly_when_its_delta_is_within_the_limit(
    lots: int, option_type: str
) -> None:
    order = intent(leg(option_type=option_type, lots=lots))
    delta = exposure(book_after({}, order), CHAIN_STATE.marks).delta_notional

    verdict = check_portfolio_delta(order, ctx(CHAIN_STATE))

    assert verdict.passed == (abs(delta) <= CONFIG.portfolio.max_abs_delta_notional)
