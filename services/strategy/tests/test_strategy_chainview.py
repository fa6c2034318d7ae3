"""The chain view finds strikes within the tolerance, whatever the order and spacing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import msgspec
import pytest

from optbus.events import ChainGreeks
from optbus_strategy.chainview import ChainView

MakeChain = Callable[..., ChainGreeks]


def _with_strikes(chain: ChainGreeks, strikes: list[float]) -> ChainGreeks:
    return msgspec.structs.replace(
        chain, snapshot=msgspec.structs.replace(chain.snapshot, strikes=strikes)
    )


def test_a_strike_a_little_off_the_listed_one_is_found(make_chain: MakeChain) -> None:
    chain = make_chain()
    view = ChainView(chain)

    assert view.index_of(chain.snapshot.strikes[7] + 5e-7) == 7


def test_a_strike_between_listed_ones_is_not_found(make_chain: MakeChain) -> None:
    chain = make_chain()

    assert ChainView(chain).index_of(chain.snapshot.strikes[7] + 25.0) is None


@pytest.mark.parametrize("near", [0.0, 5e-7])
def test_the_first_of_two_strikes_within_the_tolerance_is_found(
    make_chain: MakeChain, near: float
) -> None:
    chain = make_chain()
    strikes = list(chain.snapshot.strikes)
    strikes[3] = strikes[5] - near  # listed twice (or nearly): the first listing wins
    view = ChainView(_with_strikes(chain, strikes))

    assert view.index_of(strikes[5]) == 3


def test_strikes_listed_out_of_order_are_found(make_chain: MakeChain) -> None:
    chain = make_chain()
    strikes = list(reversed(chain.snapshot.strikes))

    assert ChainView(_with_strikes(chain, strikes)).index_of(strikes[10]) == 10


def test_a_mark_is_the_mid_of_the_columns(make_chain: MakeChain) -> None:
    view = ChainView(make_chain(spread=0.03))
    index = view.atm_index()

    assert view.mark(view.contract(index, "PE")) == view.puts.mid[index]


def test_a_contract_of_another_expiry_has_no_limit_price_on_this_chain(
    make_chain: MakeChain,
) -> None:
    view = ChainView(make_chain())
    other = msgspec.structs.replace(
        view.contract(view.atm_index(), "CE"), expiry=date(2026, 12, 15)
    )

    assert view.limit_price(other, "BUY", "touch", 0.05) is None
