"""A small broker instrument master and quotes for the feed tests (NSE facts as of 2026-12)."""

from __future__ import annotations

from datetime import date

from optbus_brokers.feed import Instrument, InstrumentKind, QuoteTick

TODAY = date(2026, 12, 1)
"""A Tuesday, itself a NIFTY weekly expiry day."""
NIFTY_EXPIRIES = (date(2026, 12, 8), date(2026, 12, 15))
NIFTY_FUTURE_EXPIRY = date(2026, 12, 29)
NIFTY_STRIKES = tuple(float(s) for s in range(24_000, 26_001, 50))
T0 = 1_796_000_000_000_000_000


def instrument(
    token: str, kind: InstrumentKind, expiry: date | None = None, strike: float | None = None,
    underlying: str = "NIFTY", lot_size: int = 65,
) -> Instrument:  # fmt: skip
    return Instrument(
        token=token, segment="NFO", symbol=f"{underlying}-{token}", underlying=underlying,
        kind=kind, expiry=expiry, strike=strike, lot_size=lot_size, tick_size=0.05,
    )  # fmt: skip


def option_token(expiry: date, strike: float, kind: InstrumentKind) -> str:
    return f"{expiry:%m%d}{int(strike)}{'C' if kind == 'call' else 'P'}"


def nifty_master(
    lot_size: int = 65, strikes: tuple[float, ...] = NIFTY_STRIKES
) -> list[Instrument]:
    """NIFTY's index, its near future, and calls and puts of two weekly expiries."""
    master = [
        instrument("NIFTY", "index", lot_size=1),
        instrument("NIFTYFUT", "future", NIFTY_FUTURE_EXPIRY, lot_size=lot_size),
    ]
    for expiry in NIFTY_EXPIRIES:
        for strike in strikes:
            for kind in ("call", "put"):
                token = option_token(expiry, strike, kind)
                master.append(instrument(token, kind, expiry, strike, lot_size=lot_size))
    return master


def tick(
    token: str, ts: int = T0, last: float = 100.0, bid: float | None = 99.5,
    ask: float | None = 100.5, bid_size: int = 65, ask_size: int = 130,
    lower_circuit: float | None = None, upper_circuit: float | None = None,
    open_interest: int = 5_000,
) -> QuoteTick:  # fmt: skip
    return QuoteTick(
        token=token, ts_exchange_ns=ts, last=last, bid=bid, ask=ask, bid_size=bid_size,
        ask_size=ask_size, volume=1_000, open_interest=open_interest, lower_circuit=lower_circuit,
        upper_circuit=upper_circuit,
    )  # fmt: skip
