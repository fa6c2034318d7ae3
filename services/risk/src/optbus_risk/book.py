"""The book the portfolio checks measure: positions plus approved quantities not yet filled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from msgspec import structs

from optbus.events import Contract, OrderIntent, RiskCheck
from optbus.quotes import OptionQuote
from optbus_risk.orders import signed_quantity
from optbus_risk.quotes import Marks
from optbus_risk.state import RiskState

Book = Mapping[Contract, int]
"""Net signed quantity (units, negative is short) per contract."""


class MissingMarketData(ValueError):
    """A contract in the book has no quote, implied volatility or Greek to measure it with."""


def _add(book: dict[Contract, int], entries: Iterable[tuple[Contract, int]]) -> dict[Contract, int]:
    for contract, quantity in entries:
        net = book.get(contract, 0) + quantity
        if net:
            book[contract] = net
        else:
            book.pop(contract, None)
    return book


def current_book(state: RiskState) -> dict[Contract, int]:
    """Open positions plus the unfilled rest of every approved intent, netted per contract."""
    positions = ((p.contract, p.quantity) for p in state.positions.values())
    return _add(_add({}, positions), state.working_legs())


def book_after(book: Book, intent: OrderIntent) -> dict[Contract, int]:
    """The book as it would be once every leg of ``intent`` is filled."""
    return _add(dict(book), ((leg.contract, signed_quantity(leg)) for leg in intent.legs))


def reduces_only(book: Book, intent: OrderIntent) -> bool:
    """Whether the intent only brings existing net positions towards zero (never past it)."""
    change = _add({}, ((leg.contract, signed_quantity(leg)) for leg in intent.legs))
    for contract, delta in change.items():
        held = book.get(contract, 0)
        if held == 0 or held * delta > 0 or abs(delta) > abs(held):
            return False
    return True


def open_positions_after(state: RiskState, intent: OrderIntent) -> tuple[int, int]:
    """Contracts held now and after the intent, counting approved quantities not yet filled.

    A position is a contract with a net quantity in the book, so an intent that adds to a
    contract already held adds no position and one that closes it removes one.
    """
    book = current_book(state)
    return len(book), len(book_after(book, intent))


def quote_or_raise(marks: Marks, contract: Contract) -> OptionQuote:
    """The latest quote of ``contract``; raises MissingMarketData when it was never quoted."""
    quote = marks.quote(contract)
    if quote is None:
        raise MissingMarketData(f"no quote for {describe(contract)}")
    return quote


@dataclass(frozen=True, slots=True)
class Exposure:
    """First-order risk of a book: delta in rupees of underlying, vega in rupees per vol point."""

    delta_notional: float
    vega: float


def exposure(book: Book, marks: Marks) -> Exposure:
    """Sum of delta x quantity x forward and of vega x quantity over the book."""
    delta_notional = 0.0
    vega = 0.0
    for contract, quantity in book.items():
        quote = quote_or_raise(marks, contract)
        if quote.delta is None or quote.vega is None:
            raise MissingMarketData(f"no Greeks for {describe(contract)}")
        delta_notional += quote.delta * quantity * quote.forward
        vega += quote.vega * quantity
    return Exposure(delta_notional=delta_notional, vega=vega)


def with_staleness(check: RiskCheck, stale: list[OptionQuote], now_ns: int) -> RiskCheck:
    """``check`` with its detail naming each contract marked at a last known quote, and its age."""
    if not stale:
        return check
    ages = ((quote.contract, (now_ns - quote.ts) / 1e9) for quote in stale)
    notes = "; ".join(
        f"{describe(held)} marked at its last quote, {age:,.0f} s old" for held, age in ages
    )
    return structs.replace(check, detail=f"{check.detail}; {notes}")


def describe(contract: Contract) -> str:
    """A contract as a trader writes it: NIFTY 2026-12-08 26000 CE, NIFTY 2026-12-29 FUT."""
    return contract.label
