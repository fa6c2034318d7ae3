from dataclasses import replace

from risk_builders import (
    CONFIG,
    FORWARD,
    NIFTY_FREEZE,
    NIFTY_LOT,
    TS,
    chain,
    ctx,
    intent,
    leg,
    released_state,
    with_config,
)

from optbus_risk.checks import (
    check_freeze_quantity,
    check_lot_size,
    check_max_notional,
    check_max_premium,
    check_order_rate,
    check_price_band,
    price_band,
)
from optbus_risk.state import OrderWindow, RiskState

LIMIT = CONFIG.order_rate.max_orders
WINDOW = CONFIG.order_rate.window_ns
SEGMENT = CONFIG.segments.of("NIFTY")


def _sent(*stamps: tuple[int, int]) -> RiskState:
    return replace(released_state(chain()), order_windows={SEGMENT: OrderWindow(stamps=stamps)})


def test_order_rate_passes_the_last_order_that_fits_the_window() -> None:
    state = _sent((TS - WINDOW // 2, LIMIT - 1))

    assert check_order_rate(intent(), ctx(state)).passed


def test_order_rate_refuses_an_order_over_the_limit_within_the_window() -> None:
    state = _sent((TS - WINDOW // 2, LIMIT))

    verdict = check_order_rate(intent(), ctx(state))

    assert not verdict.passed
    assert f"{LIMIT} sent + 1 new" in verdict.detail


def test_order_rate_forgets_orders_that_slid_out_of_the_window() -> None:
    state = _sent((TS - WINDOW, LIMIT))

    assert check_order_rate(intent(), ctx(state)).passed


def test_order_rate_counts_every_freeze_slice_as_an_order() -> None:
    big = leg(quantity=NIFTY_FREEZE * (LIMIT - 1) + NIFTY_LOT)
    state = _sent((TS, 1))

    verdict = check_order_rate(intent(big), ctx(state))

    assert not verdict.passed
    assert f"1 sent + {LIMIT} new" in verdict.detail


def test_order_rate_counts_55_nifty_lots_as_the_3_whole_lot_orders_execution_sends() -> None:
    state = _sent((TS, LIMIT - 3))

    verdict = check_order_rate(intent(leg(lots=55)), ctx(state))

    assert verdict.passed
    assert f"{LIMIT - 3} sent + 3 new" in verdict.detail


def test_order_rate_counts_orders_per_exchange_segment() -> None:
    config = with_config(segments={"by_underlying": {"NIFTY": "OTHER"}})
    state = _sent((TS, LIMIT))

    assert check_order_rate(intent(), ctx(state, config=config)).passed


def test_lot_size_passes_whole_lots() -> None:
    assert check_lot_size(intent(leg(lots=3)), ctx(released_state())).passed


def test_lot_size_refuses_a_quantity_that_is_not_a_multiple_of_the_lot() -> None:
    verdict = check_lot_size(intent(leg(quantity=NIFTY_LOT + 1)), ctx(released_state()))

    assert not verdict.passed
    assert f"not a multiple of {NIFTY_LOT}" in verdict.detail


def test_lot_size_refuses_a_zero_quantity() -> None:
    assert not check_lot_size(intent(leg(quantity=0)), ctx(released_state())).passed


def test_lot_size_refuses_an_intent_without_legs() -> None:
    empty = intent(legs=[])

    assert not check_lot_size(empty, ctx(released_state())).passed


def test_freeze_quantity_passes_an_order_at_the_freeze_quantity_unsliced() -> None:
    verdict = check_freeze_quantity(intent(leg(quantity=NIFTY_FREEZE)), ctx(released_state()))

    assert verdict.passed
    assert "slices: 0" in verdict.detail


def test_freeze_quantity_records_the_slices_of_a_larger_order() -> None:
    verdict = check_freeze_quantity(intent(leg(quantity=NIFTY_FREEZE + 1)), ctx(released_state()))

    assert verdict.passed
    assert "2 slices" in verdict.detail


def test_freeze_quantity_refuses_a_larger_order_when_slicing_is_disabled() -> None:
    config = with_config(orders={"allow_freeze_slicing": False})
    big = intent(leg(quantity=NIFTY_FREEZE + NIFTY_LOT))

    verdict = check_freeze_quantity(big, ctx(released_state(), config=config))

    assert not verdict.passed
    assert "slicing is disabled" in verdict.detail


def test_price_band_is_absolute_below_the_threshold() -> None:
    assert price_band(30.0, CONFIG.price_band) == (10.0, 50.0)


def test_price_band_is_relative_at_and_above_the_threshold() -> None:
    low, high = price_band(100.0, CONFIG.price_band)

    assert (round(low, 9), round(high, 9)) == (60.0, 140.0)


def _atm_call_reference() -> float:
    quoted = chain()
    index = quoted.snapshot.strikes.index(FORWARD)
    return quoted.snapshot.calls.last[index]


def test_price_band_passes_a_limit_inside_the_band() -> None:
    limit = _atm_call_reference() * 1.3

    assert check_price_band(intent(leg(limit_price=limit)), ctx(released_state(chain()))).passed


def test_price_band_refuses_a_limit_outside_the_band() -> None:
    limit = _atm_call_reference() * 1.5

    verdict = check_price_band(intent(leg(limit_price=limit)), ctx(released_state(chain())))

    assert not verdict.passed
    assert "outside" in verdict.detail


def test_price_band_refuses_a_limit_order_on_a_contract_never_quoted() -> None:
    verdict = check_price_band(intent(leg(limit_price=100.0)), ctx(released_state()))

    assert not verdict.passed


def test_price_band_passes_a_market_order() -> None:
    assert check_price_band(intent(leg()), ctx(released_state())).passed


def test_max_premium_passes_a_small_order() -> None:
    assert check_max_premium(intent(leg(lots=1)), ctx(released_state(chain()))).passed


def test_max_premium_refuses_an_order_whose_premium_exceeds_the_limit() -> None:
    lots = int(CONFIG.orders.max_premium_per_order / (100.0 * NIFTY_LOT)) + 1
    order = intent(leg(lots=lots, limit_price=100.0))

    assert not check_max_premium(order, ctx(released_state(chain()))).passed


def test_max_notional_refuses_an_order_whose_notional_exceeds_the_limit() -> None:
    lots = int(CONFIG.orders.max_notional_per_order / (FORWARD * NIFTY_LOT)) + 2

    verdict = check_max_notional(intent(leg(lots=lots)), ctx(released_state(chain())))

    assert not verdict.passed


def test_max_notional_refuses_an_order_without_a_spot_to_value_it() -> None:
    assert not check_max_notional(intent(), ctx(released_state())).passed


def test_max_notional_passes_a_small_order() -> None:
    assert check_max_notional(intent(leg(lots=1)), ctx(released_state(chain()))).passed
