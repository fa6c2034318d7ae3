"""Limit prices come from the quote and sit on the 0.05 tick."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbus.events import ChainGreeks, Contract, Side
from optbus_strategy.chainview import ChainView, round_to_tick

MakeChain = Callable[..., ChainGreeks]
TICK = 0.05


def _on_tick(price: float) -> bool:
    return math.isclose(price / TICK, round(price / TICK), abs_tol=1e-9)


@pytest.mark.parametrize(
    ("price", "up", "expected"),
    [(5.12, True, 5.15), (5.12, False, 5.10), (5.15, True, 5.15), (5.15, False, 5.15),
     (0.01, False, 0.05), (102.675, True, 102.70)],
)  # fmt: skip
def test_a_price_is_rounded_to_the_tick_in_the_direction_asked(
    price: float, up: bool, expected: float
) -> None:
    assert round_to_tick(price, TICK, up=up) == pytest.approx(expected, abs=1e-12)


@given(price=st.floats(0.05, 5_000.0), up=st.booleans())
def test_any_rounded_price_is_on_the_tick_and_less_than_a_tick_away(price: float, up: bool) -> None:
    rounded = round_to_tick(price, TICK, up=up)

    assert _on_tick(rounded)
    assert abs(rounded - price) < TICK + 1e-9


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_a_mid_limit_lies_within_the_quote_and_on_the_tick(
    make_chain: MakeChain, side: Side
) -> None:
    view = ChainView(make_chain(spread=0.03))
    index = view.atm_index()
    contract = view.contract(index, "CE")

    price = view.limit_price(contract, side, "mid", TICK)

    assert price is not None
    assert _on_tick(price)
    assert view.calls.bid[index] <= price <= view.calls.ask[index]


def test_a_mid_limit_to_buy_is_at_or_above_the_mid(make_chain: MakeChain) -> None:
    view = ChainView(make_chain(spread=0.03))
    index = view.atm_index()

    price = view.limit_price(view.contract(index, "PE"), "BUY", "mid", TICK)

    assert price is not None
    assert price >= view.puts.mid[index] - 1e-9


@pytest.mark.parametrize(("side", "column"), [("BUY", "ask"), ("SELL", "bid")])
def test_a_touch_limit_is_the_ask_to_buy_and_the_bid_to_sell(
    make_chain: MakeChain, side: Side, column: str
) -> None:
    view = ChainView(make_chain(spread=0.03))
    index = view.atm_index()

    price = view.limit_price(view.contract(index, "CE"), side, "touch", TICK)

    assert price == pytest.approx(getattr(view.calls, column)[index])


def test_an_option_without_a_two_sided_quote_has_no_limit_price(make_chain: MakeChain) -> None:
    view = ChainView(make_chain(strikes_per_side=60))
    far = view.contract(len(view.strikes) - 1, "CE")
    assert view.calls.bid[-1] == 0.0

    assert view.limit_price(far, "BUY", "mid", TICK) is None


def test_a_strike_the_chain_does_not_list_has_no_limit_price(make_chain: MakeChain) -> None:
    view = ChainView(make_chain())
    missing = Contract(underlying="NIFTY", expiry=view.expiry, strike=1.0, option_type="CE")

    assert view.limit_price(missing, "BUY", "mid", TICK) is None


def test_a_two_sided_option_is_marked_at_its_mid(make_chain: MakeChain) -> None:
    view = ChainView(make_chain())
    index = view.atm_index()

    assert view.mark(view.contract(index, "CE")) == pytest.approx(view.calls.mid[index])


def test_an_option_offered_without_bid_or_trade_is_marked_at_half_its_ask(
    make_chain: MakeChain,
) -> None:
    view = ChainView(make_chain(strikes_per_side=60, vol=0.05))
    far = view.contract(len(view.strikes) - 1, "CE")

    assert view.mark(far) == pytest.approx(view.calls.ask[-1] / 2)
