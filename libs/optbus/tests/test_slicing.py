"""Freeze slicing: every whole-lot quantity of NIFTY and BANKNIFTY, sliced as the exchange does."""

from __future__ import annotations

import pytest

from optbus.market import ContractSpec, load_market_facts
from optbus.slicing import freeze_slices

FACTS = load_market_facts()
MOST_LOTS = 2_000
INDICES = [FACTS.contract("NIFTY"), FACTS.contract("BANKNIFTY")]


def _every_whole_lot_quantity(spec: ContractSpec) -> range:
    return range(spec.lot_size, (MOST_LOTS + 1) * spec.lot_size, spec.lot_size)


@pytest.mark.parametrize("spec", INDICES, ids=lambda spec: spec.underlying)
def test_slices_add_up_to_the_quantity(spec: ContractSpec) -> None:
    for quantity in _every_whole_lot_quantity(spec):
        assert sum(freeze_slices(quantity, spec.lot_size, spec.freeze_quantity)) == quantity


@pytest.mark.parametrize("spec", INDICES, ids=lambda spec: spec.underlying)
def test_every_slice_is_a_positive_whole_number_of_lots_within_the_freeze_quantity(
    spec: ContractSpec,
) -> None:
    for quantity in _every_whole_lot_quantity(spec):
        for units in freeze_slices(quantity, spec.lot_size, spec.freeze_quantity):
            assert 0 < units <= spec.freeze_quantity
            assert units % spec.lot_size == 0


@pytest.mark.parametrize("spec", INDICES, ids=lambda spec: spec.underlying)
def test_every_slice_but_the_last_is_the_largest_whole_lot_order_the_freeze_allows(
    spec: ContractSpec,
) -> None:
    largest = spec.freeze_quantity // spec.lot_size * spec.lot_size
    for quantity in _every_whole_lot_quantity(spec):
        slices = freeze_slices(quantity, spec.lot_size, spec.freeze_quantity)
        assert all(units == largest for units in slices[:-1])


def test_55_nifty_lots_make_3_orders() -> None:
    nifty = FACTS.contract("NIFTY")

    slices = freeze_slices(55 * nifty.lot_size, nifty.lot_size, nifty.freeze_quantity)

    # NIFTY: 27 lots of 65 = 1,755 units fit under the 1,800 freeze, so 3,575 units take 3.
    assert slices == [1_755, 1_755, 65]


def test_a_non_positive_quantity_stays_one_order_for_the_checks_to_refuse() -> None:
    nifty = FACTS.contract("NIFTY")

    assert freeze_slices(0, nifty.lot_size, nifty.freeze_quantity) == [0]
