"""A small deterministic quote model for the broker fakes: what the exchange would be quoting.

Black-76 at one flat volatility on a forward grown from a spot the test sets; two-sided quotes a
fixed fraction wide around the model price, rounded outwards to the tick; sizes, volume and open
interest from the strike's distance to the money and the round number. Nothing random: a test
that knows the spot, the time and the round knows every number a fake sends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optbus.market import MarketFacts, load_market_facts
from optbus.pricing import black76_price, time_to_expiry_years
from optbus_brokers.feed import Instrument

DEFAULT_SPOTS = {"NIFTY": 24_000.0, "BANKNIFTY": 52_000.0}


@dataclass(frozen=True, slots=True)
class ModelQuote:
    """One instrument's quote in rupees and units; an index has no bid or ask."""

    last: float
    bid: float | None
    ask: float | None
    bid_size: int
    ask_size: int
    volume: int
    open_interest: int


class QuoteModel:
    """Quotes for the instruments of a fake's master at a time the test chooses."""

    def __init__(
        self,
        spots: dict[str, float] | None = None,
        *,
        volatility: float = 0.14,
        rate: float = 0.065,
        spread_fraction: float = 0.02,
        facts: MarketFacts | None = None,
    ) -> None:
        self.spots = dict(spots or DEFAULT_SPOTS)
        self.volatility = volatility
        self.rate = rate
        self.spread_fraction = spread_fraction
        self._facts = facts or load_market_facts()

    def set_spot(self, underlying: str, spot: float) -> None:
        self.spots[underlying] = spot

    def quote(self, instrument: Instrument, ts_ns: int, round_number: int) -> ModelQuote:
        """The quote of ``instrument`` at ``ts_ns`` in round ``round_number`` (0, 1, ...)."""
        spot = self.spots[instrument.underlying]
        if instrument.kind == "index" or instrument.expiry is None:
            return ModelQuote(spot, None, None, 0, 0, 0, 0)
        years = time_to_expiry_years(ts_ns, self._facts.expiry_close_ns(instrument.expiry))
        forward = spot * math.exp(self.rate * years)
        tick = instrument.tick_size
        if instrument.kind == "future" or instrument.strike is None:
            price = forward
            distance = 0
        else:
            price = float(
                black76_price(
                    instrument.kind == "call",
                    forward,
                    instrument.strike,
                    years,
                    self.rate,
                    self.volatility,
                )
            )
            step = self._facts.contract(instrument.underlying).strike_step
            distance = round(abs(instrument.strike - spot) / step)
        half_spread = max(tick, price * self.spread_fraction / 2)
        bid = max(_round_down(price - half_spread, tick), tick)
        ask = max(_round_up(price + half_spread, tick), bid + tick)
        lot = instrument.lot_size
        return ModelQuote(
            last=round(max(_round_down(price, tick), tick), 2),
            bid=round(bid, 2),
            ask=round(ask, 2),
            bid_size=lot * (1 + distance % 9),
            ask_size=lot * (2 + distance % 7),
            volume=lot * 100 * (round_number + 1) // (1 + distance),
            open_interest=lot * 1_000 * (1 + distance % 13),
        )


def _round_down(price: float, tick: float) -> float:
    return math.floor(price / tick + 1e-9) * tick


def _round_up(price: float, tick: float) -> float:
    return math.ceil(price / tick - 1e-9) * tick
