"""The contracts and the deterministic quotes of the ICICI Breeze fake.

A small realistic security master, dated from an injected day: the NIFTY and BANKNIFTY indices,
each index's near-month future, and its options of the next two expiries at ±40 strikes around
the starting spot, with the lot sizes, strike steps and expiries of optbus's dated contract
data. Quotes are Black-76 prices of a spot that moves on a fixed path, one step per publish, so
a test knows every price it will see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from optbus.market import load_market_facts
from optbus.pricing.black76 import black76_price

# Breeze's short code and NSE index name of each underlying, and where the fake starts it.
UNDERLYINGS = {
    "NIFTY": ("NIFTY", "NIFTY 50", 24_000.0),
    "BANKNIFTY": ("CNXBAN", "NIFTY BANK", 52_000.0),
}
STRIKES_EACH_SIDE = 40
OPTION_EXPIRIES = 2
_FIRST_TOKEN = 35_000
_VOL = 0.14
_SMILE = 0.6
_TICK = 0.05


@dataclass(frozen=True, slots=True)
class FakeContract:
    """One line of the fake master; ``kind`` is ``index``, ``future``, ``call`` or ``put``."""

    token: str
    underlying: str
    code: str
    kind: str
    expiry: date | None
    strike: float | None
    lot_size: int


def fake_contracts(today: date) -> list[FakeContract]:
    """The fake's master for a session on ``today``: every expiry lies after it."""
    facts = load_market_facts()
    contracts: list[FakeContract] = []
    token = _FIRST_TOKEN
    for underlying, (code, index_name, spot) in UNDERLYINGS.items():
        spec = facts.contract(underlying, today)
        contracts.append(FakeContract(index_name, underlying, code, "index", None, None, 1))
        after = today + timedelta(days=1)
        future_expiry = facts.monthly_expiries(underlying, after, 1)[0]
        contracts.append(
            FakeContract(str(token), underlying, code, "future", future_expiry, None, spec.lot_size)
        )
        token += 1
        atm = round(spot / spec.strike_step) * spec.strike_step
        for expiry in facts.expiries(underlying, after, OPTION_EXPIRIES):
            for offset in range(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1):
                strike = atm + offset * spec.strike_step
                for kind in ("call", "put"):
                    contracts.append(
                        FakeContract(
                            str(token), underlying, code, kind, expiry, strike, spec.lot_size
                        )
                    )
                    token += 1
    return contracts


@dataclass(frozen=True, slots=True)
class FakeQuote:
    """What the fake says of one contract at one step, in rupees and units."""

    last: float
    bid: float
    bid_size: int
    ask: float
    ask_size: int
    volume: int
    open_interest: int


class QuoteModel:
    """Spot on a fixed path (a slow sine, ±0.3 %); options priced off it with a smile."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.step = 0

    def spot(self, underlying: str) -> float:
        start = UNDERLYINGS[underlying][2]
        return _to_tick(start * (1 + 0.003 * math.sin(self.step / 9)))

    def quote(self, contract: FakeContract) -> FakeQuote:
        spot = self.spot(contract.underlying)
        if contract.kind == "index":
            return FakeQuote(spot, 0.0, 0, 0.0, 0, 0, 0)
        value = spot if contract.kind == "future" else self._option_value(contract, spot)
        half_spread = max(_TICK, _to_tick(value * 0.004))
        bid = _to_tick(value - half_spread)
        size = contract.lot_size * (1 + (self.step + int(contract.token)) % 9)
        return FakeQuote(
            last=_to_tick(value),
            bid=bid if bid >= _TICK else 0.0,
            bid_size=size if bid >= _TICK else 0,
            ask=_to_tick(value + half_spread),
            ask_size=size + contract.lot_size,
            volume=contract.lot_size * (100 + 7 * self.step),
            open_interest=contract.lot_size * (5_000 + int(contract.token) % 997),
        )

    def _option_value(self, contract: FakeContract, spot: float) -> float:
        assert contract.expiry is not None
        assert contract.strike is not None
        years = max((contract.expiry - self.today).days, 0.25) / 365.0
        moneyness = math.log(contract.strike / spot)
        vol = _VOL + _SMILE * moneyness * moneyness
        price = black76_price(contract.kind == "call", spot, contract.strike, years, 0.0, vol)
        return float(price)


def _to_tick(price: float) -> float:
    return round(round(price / _TICK) * _TICK, 2)
