"""Reconciliation: every difference between the broker and the log is named, none invented."""

from __future__ import annotations

import pytest
from execution_fixtures import CALL, LOT, PUT, T0, approved, chain, engine, intent, of_type

from optbus.events import BrokerStateAdopted, Contract, Order, Position
from optbus_brokers.orders import BrokerOrder, BrokerPosition
from optbus_execution.reconcile import (
    Difference,
    adoption,
    order_differences,
    position_differences,
    reason,
    side_by_side,
)

TOKENS = {"43650": CALL, "43651": PUT}


def _contract_of(token: str) -> Contract | None:
    return TOKENS.get(token)


def _log_position(quantity: int) -> Position:
    live = engine()
    live.on_chain(chain(T0))
    live.on_decision(approved(intent("BUY" if quantity > 0 else "SELL", abs(quantity))))
    live.on_chain(chain(T0 + 10**9))
    [position] = live.positions()
    return position


def _held(token: str, quantity: int, symbol: str = "NIFTY08DEC2626000CE") -> BrokerPosition:
    return BrokerPosition(token=token, symbol=symbol, net_quantity=quantity, average_price=120.0)


def test_the_same_position_on_both_sides_is_no_difference() -> None:
    assert position_differences([_held("43650", LOT)], [_log_position(LOT)], _contract_of) == []


def test_a_position_at_the_broker_unknown_to_the_log_is_a_difference() -> None:
    differences = position_differences([_held("43651", -LOT)], [], _contract_of)
    assert differences == [Difference("position NIFTY 2026-12-08 26000 PE", -LOT, 0)]


def test_a_position_in_the_log_the_broker_does_not_hold_is_a_difference() -> None:
    differences = position_differences([], [_log_position(LOT)], _contract_of)
    assert differences == [Difference("position NIFTY 2026-12-08 26000 CE", 0, LOT)]


def test_an_instrument_optbus_cannot_name_is_shown_by_the_brokers_symbol() -> None:
    differences = position_differences([_held("999", 50, "RELIANCE")], [], _contract_of)
    assert differences == [Difference("position RELIANCE", 50, 0)]


def _working_order() -> Order:
    live = engine()
    live.on_chain(chain(T0))
    return of_type(live.on_decision(approved(intent(limit_price=100.0))), Order)[0]


def _row(coid: str | None, quantity: int, filled: int = 0) -> BrokerOrder:
    return BrokerOrder(
        broker_order_id="B1", client_order_id=coid, token="43650", side="buy",
        quantity=quantity, filled_quantity=filled, limit_price=100.0, average_price=None,
        status="open", reason=None, ts_update_ns=T0,
    )  # fmt: skip


def test_an_open_order_with_the_same_quantity_left_is_no_difference() -> None:
    order = _working_order()
    assert order_differences([_row(order.client_order_id, LOT)], [(order, LOT)]) == []


def test_an_open_order_at_the_broker_the_log_never_placed_is_a_difference() -> None:
    assert order_differences([_row(None, LOT)], []) == [Difference("open order broker B1", LOT, 0)]


def test_an_order_the_log_thinks_working_but_the_broker_has_not_is_a_difference() -> None:
    order = _working_order()
    differences = order_differences([], [(order, LOT)])
    assert differences == [Difference(f"open order {order.client_order_id}", 0, LOT)]


def test_the_reason_names_each_difference_with_both_numbers() -> None:
    text = reason([Difference("position NIFTY 2026-12-08 26000 PE", -65, 0)])
    assert text == "reconciliation mismatch: position NIFTY 2026-12-08 26000 PE: broker -65, log 0"


def test_the_side_by_side_view_has_a_column_for_each_side() -> None:
    table = side_by_side([Difference("position X", -65, 0)]).splitlines()
    assert table[0].split() == ["what", "broker", "log"]
    assert table[1].split() == ["position", "X", "-65", "0"]


def _adopting(held: list[BrokerPosition]) -> BrokerStateAdopted:
    differences = position_differences(held, [], _contract_of)
    return adoption(held, differences, _contract_of, ("asha", "broker is right", "angel-one"), T0)


def test_an_adoption_carries_the_brokers_positions_and_the_audit() -> None:
    adopted = _adopting([_held("43651", -LOT)])
    [position] = adopted.positions
    assert (position.contract, position.quantity, position.average_price) == (PUT, -LOT, 120.0)
    assert (adopted.operator, adopted.reason, adopted.venue) == (
        "asha",
        "broker is right",
        "angel-one",
    )
    assert adopted.differences == ["position NIFTY 2026-12-08 26000 PE: broker -65, log 0"]


def test_folding_an_adoption_makes_the_brokers_positions_the_logs() -> None:
    live = engine()
    live.on_chain(chain(T0))
    live.on_decision(approved(intent()))
    live.on_chain(chain(T0 + 10**9))
    held = [_held("43651", -LOT)]
    live.fold(_adopting(held))
    assert position_differences(held, live.positions(), _contract_of) == []


def test_an_instrument_optbus_cannot_name_cannot_be_adopted() -> None:
    with pytest.raises(ValueError, match="cannot adopt RELIANCE"):
        _adopting([_held("999", 50, "RELIANCE")])
