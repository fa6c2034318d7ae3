"""Expiry settlement: what the exchange does to a position still open at the close of expiry day.

NSE index options are European and cash-settled at the final settlement price, the index's
closing value on expiry day; here, the last spot the day's chains of the underlying carried
before the session's close (``SettlementPrices``). A long in the money is exercised and
receives its intrinsic value, paying STT on it at the dated exercise rate; a short in the
money is assigned and pays the intrinsic value; out of the money either side expires
worthless. An index future settles at the final settlement price too: it leaves at that price
(the difference from its average price is its P&L), with no STT and no other charge. Pure:
prices and times come from the events folded in.
"""

from __future__ import annotations

from datetime import date

from optbus.events import Contract, MarketContext, Position, PositionSettled, SettlementOutcome
from optbus.fees import exercise_charges
from optbus.ids import derived_event_id
from optbus.market import MarketFacts, MarketFactsError


def intrinsic_value(contract: Contract, settlement_price: float) -> float:
    """What one unit of ``contract`` is worth at ``settlement_price`` (an option: 0 out of the
    money; a future: the settlement price itself)."""
    if contract.option_type == "FUT":
        return settlement_price
    if contract.option_type == "CE":
        return max(0.0, settlement_price - contract.strike)
    return max(0.0, contract.strike - settlement_price)


def settlement_of(
    position: Position, settlement_price: float, ts_event: int, ts_init: int
) -> PositionSettled:
    """The settlement of ``position`` at ``settlement_price`` (its id fixed by the position)."""
    intrinsic = intrinsic_value(position.contract, settlement_price)
    outcome: SettlementOutcome
    if position.contract.option_type == "FUT":
        outcome = "settled"
    elif intrinsic == 0.0:
        outcome = "expired"
    else:
        outcome = "exercised" if position.quantity > 0 else "assigned"
    units = abs(position.quantity)
    # STT on exercise is the buyer's: a short that is assigned pays none, nor does a future.
    stt_base = intrinsic * units if outcome == "exercised" else 0.0
    return PositionSettled(
        event_id=derived_event_id("exec.position.settled", position.position_id),
        ts_event=ts_event,
        ts_init=ts_init,
        position_id=position.position_id,
        contract=position.contract,
        quantity=position.quantity,
        settlement_price=settlement_price,
        intrinsic_value=intrinsic,
        outcome=outcome,
        charges=exercise_charges(stt_base, position.contract.expiry),
    )


def settlement_context(
    settled: PositionSettled, close_ns: int, india_vix: float | None
) -> MarketContext:
    """The market a settled trade left in: the close of expiry day, the option at intrinsic."""
    return MarketContext(
        ts=close_ns, option_price=settled.intrinsic_value, iv=None, delta=None, gamma=None,
        theta=None, vega=None, spot=settled.settlement_price, forward=settled.settlement_price,
        india_vix=india_vix, pcr=None, open_interest=0,
    )  # fmt: skip


class SettlementPrices:
    """The final settlement price of each underlying and trading day, from the chains folded in.

    It keeps, per underlying and day, the spot of the latest chain at or before the session's
    close; a chain after the close (the next session's, or a late one) never changes it.
    """

    def __init__(self, facts: MarketFacts) -> None:
        self._facts = facts
        self._close_ns: dict[date, int | None] = {}
        self._spots: dict[tuple[str, date], tuple[int, float]] = {}

    def close_ns(self, day: date) -> int | None:
        """When the session of ``day`` closes (None when ``day`` is no trading day)."""
        if day not in self._close_ns:
            try:
                self._close_ns[day] = self._facts.session_close_ns(day)
            except MarketFactsError:
                self._close_ns[day] = None
        return self._close_ns[day]

    def on_chain(self, underlying: str, spot: float, ts_ns: int) -> None:
        """Take a chain's spot as the underlying's latest of its day, if before the close."""
        day = self._facts.local_date(ts_ns)
        close = self.close_ns(day)
        if close is None or ts_ns > close:
            return
        key = (underlying, day)
        latest = self._spots.get(key)
        if latest is None or latest[0] <= ts_ns:
            self._spots[key] = (ts_ns, spot)

    def price(self, underlying: str, day: date) -> float | None:
        """The final settlement price of ``underlying`` on ``day``, if its chains were seen."""
        latest = self._spots.get((underlying, day))
        return None if latest is None else latest[1]
