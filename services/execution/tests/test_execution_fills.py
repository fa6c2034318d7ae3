"""The paper broker's fills: latency, the touch, slippage, partial fills, limits, charges."""

from __future__ import annotations

from execution_fixtures import (
    DAY,
    LATENCY,
    LOT,
    MS,
    T0,
    approved,
    chain,
    engine,
    intent,
    of_type,
    submit_and_fill,
)

from optbus.events import Fill, OrderCancelled
from optbus.fees import charges_for


def test_a_market_buy_fills_at_the_ask_of_the_first_quote_after_the_latency() -> None:
    e = engine()

    fills = of_type(submit_and_fill(e, intent("BUY", LOT), T0, ask=120.5), Fill)

    assert [(f.quantity, f.price, f.ts_event) for f in fills] == [(LOT, 120.5, T0 + 2 * LATENCY)]


def test_a_market_sell_of_a_small_share_of_the_bid_fills_at_the_bid() -> None:
    e = engine()

    fills = of_type(submit_and_fill(e, intent("SELL", LOT), T0, bid=120.0), Fill)

    assert [f.price for f in fills] == [120.0]


def test_no_fill_happens_on_a_quote_inside_the_latency() -> None:
    e = engine()
    e.on_chain(chain(T0))
    e.on_decision(approved(intent("BUY", LOT)))

    assert of_type(e.on_chain(chain(T0 + LATENCY - 1)), Fill) == []


def test_the_fill_is_priced_from_the_quote_at_the_moment_of_the_fill() -> None:
    e = engine()
    e.on_chain(chain(T0, bid=120.0, ask=120.5))
    e.on_decision(approved(intent("BUY", LOT)))

    fills = of_type(e.on_chain(chain(T0 + LATENCY, bid=130.0, ask=130.5)), Fill)

    assert (fills[0].price, fills[0].bid, fills[0].ask) == (130.5, 130.0, 130.5)


def test_taking_all_the_displayed_size_costs_half_the_spread_beyond_the_touch() -> None:
    e = engine()

    fills = of_type(submit_and_fill(e, intent("BUY", 20 * LOT), T0, ask_size=20 * LOT), Fill)

    # spread 0.50 x size impact 0.5 x 20/20 lots = 0.25 beyond the ask of 120.50.
    assert fills[0].price == 120.75


def test_slippage_grows_with_the_share_of_displayed_size_taken() -> None:
    prices = []
    for lots in (1, 10, 20):
        e = engine()
        fills = of_type(submit_and_fill(e, intent("SELL", lots * LOT), T0), Fill)
        prices.append(fills[0].price)

    # 0.50 spread x 0.5 x (1/20, 10/20, 20/20): 0.0125 -> 0, 0.125 -> 0.15 (a half tick goes
    # against the trader), 0.25.
    assert prices == [120.0, 119.85, 119.75]


def test_an_order_above_the_displayed_size_fills_partly_and_keeps_working() -> None:
    e = engine()

    fills = of_type(submit_and_fill(e, intent("BUY", 25 * LOT), T0, ask_size=20 * LOT), Fill)

    assert [f.quantity for f in fills] == [20 * LOT]
    assert [order.quantity for order in e.working_orders()] == [25 * LOT]


def test_the_rest_of_a_partly_filled_order_fills_on_the_next_quote() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", 25 * LOT), T0, ask_size=20 * LOT)

    fills = of_type(e.on_chain(chain(T0 + 500 * MS, bid=120.5, ask=121.0)), Fill)

    # 5 of 20 lots displayed: 0.50 x 0.5 x 0.25 = 0.0625 -> one tick beyond the new ask.
    assert [(f.quantity, f.price) for f in fills] == [(5 * LOT, 121.05)]
    assert e.working_orders() == []


def test_slices_of_one_leg_share_the_displayed_size() -> None:
    e = engine()

    fills = of_type(submit_and_fill(e, intent("BUY", 62 * LOT), T0, ask_size=40 * LOT), Fill)

    assert sum(f.quantity for f in fills) == 40 * LOT


def test_a_buy_limit_below_the_ask_does_not_fill() -> None:
    e = engine()

    fills = of_type(submit_and_fill(e, intent("BUY", LOT, limit_price=120.0), T0), Fill)

    assert fills == []


def test_a_buy_limit_fills_when_the_ask_comes_down_to_it() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", LOT, limit_price=120.0), T0)

    fills = of_type(e.on_chain(chain(T0 + 500 * MS, bid=119.5, ask=120.0)), Fill)

    assert [f.price for f in fills] == [120.0]


def test_slippage_never_takes_a_limit_order_past_its_limit() -> None:
    e = engine()

    fills = of_type(
        submit_and_fill(e, intent("BUY", 20 * LOT, limit_price=120.6), T0, ask=120.5), Fill
    )

    assert fills[0].price == 120.6  # 120.75 with slippage, capped at the limit


def test_a_sell_limit_above_the_bid_does_not_fill() -> None:
    e = engine()

    fills = of_type(submit_and_fill(e, intent("SELL", LOT, limit_price=120.5), T0), Fill)

    assert fills == []


def test_a_sell_never_fills_against_an_empty_bid() -> None:
    e = engine()

    fills = of_type(submit_and_fill(e, intent("SELL", LOT), T0, bid=0.0, bid_size=0), Fill)

    assert fills == []


def test_every_fill_carries_its_itemised_charges() -> None:
    e = engine()

    fill = of_type(submit_and_fill(e, intent("SELL", LOT), T0, bid=135.25, ask=135.75), Fill)[0]

    assert fill.charges == charges_for("SELL", 135.25 * LOT, DAY, 20.0)


def test_brokerage_is_charged_once_per_order_on_its_first_fill() -> None:
    e = engine()
    submit_and_fill(e, intent("BUY", 25 * LOT), T0, ask_size=20 * LOT)

    later = of_type(e.on_chain(chain(T0 + 500 * MS)), Fill)

    assert later[0].charges.brokerage == 0.0


def test_an_order_past_its_time_to_live_is_cancelled() -> None:
    e = engine(order_ttl_ns=300 * MS)
    submit_and_fill(e, intent("BUY", LOT, limit_price=110.0), T0)

    events = e.on_chain(chain(T0 + 400 * MS))

    assert [c.reason for c in of_type(events, OrderCancelled)] == ["order time to live ran out"]
