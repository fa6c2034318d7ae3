"""Marks: what every open position is worth on the latest chain, and the unrealised P&L.

A position is marked at its option's mid; without a two-sided quote at the last traded price;
without a trade at the model price (Black-76 on the chain's forward with the option's own
implied volatility). The source is kept with the price (``RiskState.position_marks``): a mark
made of a model price is not one the market showed. Unrealised P&L is what closing every
position at its mark would book before exit charges: (mark - average price) x signed units,
less the charges already paid on the position. A position not yet marked counts at its entry
price (only its charges).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from optbus.events import Position
from optbus.pricing import black76_price
from optbus.quotes import OptionQuote

MarkSource = Literal["mid", "last", "model"]


@dataclass(frozen=True, slots=True)
class Mark:
    """One position's price on one chain and where it came from."""

    price: float
    source: MarkSource
    ts_ns: int


def mark_of(quote: OptionQuote) -> Mark | None:
    """The mark of a quote: mid, else last, else model price; None when none is available."""
    mid = quote.mid
    if mid is not None:
        return Mark(mid, "mid", quote.ts)
    if quote.last > 0:
        return Mark(quote.last, "last", quote.ts)
    if quote.iv is None or quote.time_to_expiry <= 0 or quote.forward <= 0:
        return None
    model = black76_price(
        quote.contract.option_type == "CE", quote.forward, quote.contract.strike,
        quote.time_to_expiry, quote.rate, quote.iv,
    )  # fmt: skip
    return Mark(float(model), "model", quote.ts)


def unrealised(position: Position, mark: Mark | None) -> float:
    """The position's unrealised P&L at ``mark`` (at its entry price when not marked)."""
    price = position.average_price if mark is None else mark.price
    return (price - position.average_price) * position.quantity - position.charges


def book_unrealised(positions: Iterable[Position], marks: Mapping[str, Mark]) -> float:
    """The unrealised P&L of every open position at its latest mark."""
    return sum(unrealised(p, marks.get(p.position_id)) for p in positions)
