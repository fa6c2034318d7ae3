"""Positions and closed trades, folded from fills.

A position is one strategy's signed quantity of one contract, opened by an intent's group;
fills add to it or reduce it (average-cost), and when it is back to zero it becomes a closed
trade: entry and exit market context, exit reason, gross P&L (short positions too), charges of
entry and exit, and net = gross - charges. A fill that crosses zero closes the position and
opens a new one with the rest. State is rebuilt by folding the same fills, or the recorded
position events (``adopt``), so a restarted service recovers.
"""

from __future__ import annotations

from dataclasses import dataclass

from optbus.clock import Clock
from optbus.events import (
    SETTLEMENT_EXIT_REASON,
    Contract,
    Event,
    Fill,
    Leg,
    MarketContext,
    OrderIntent,
    Position,
    PositionClosed,
    PositionOpened,
    PositionSettled,
    PositionUpdated,
    TradeClosed,
)
from optbus.ids import derived_event_id
from optbus_execution.orders import OrderOrigin

_PAISA_DIGITS = 2


@dataclass(frozen=True, slots=True)
class _Exit:
    """How a position left: when, why, and in what market."""

    ts_event: int
    reason: str
    context: MarketContext


@dataclass(slots=True)
class _Open:
    position: Position
    entry_value: float
    entry_units: int
    exit_value: float = 0.0
    exit_units: int = 0


class PositionBook:
    """Open positions by id, changed only by fills (``apply_fill``) or recorded events."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._open: dict[str, _Open] = {}

    def positions(self) -> list[Position]:
        """The open positions, oldest first."""
        return [state.position for state in self._open.values()]

    def get(self, position_id: str) -> Position | None:
        """The open position with this id, if it is open."""
        state = self._open.get(position_id)
        return None if state is None else state.position

    def target(self, origin: OrderOrigin, contract: Contract) -> Position | None:
        """The position a fill of an order from ``origin`` on ``contract`` changes, if any.

        A close goes to the position its intent names, else to its strategy and group's
        position of the contract, else to its strategy's oldest; an open adds to its strategy
        and group's position of the contract, or opens a new one.
        """
        if origin.position_id is not None:
            named = self.get(origin.position_id)
            if named is not None and named.contract == contract:
                return named
        candidates = [p for p in self.positions() if p.contract == contract]
        for position in candidates:
            if (position.strategy, position.group_id) == (origin.strategy, origin.group_id):
                return position
        if origin.purpose == "close":
            for position in candidates:
                if position.strategy == origin.strategy:
                    return position
        return None

    def apply_fill(
        self, fill: Fill, origin: OrderOrigin, context: MarketContext | None
    ) -> list[Event]:
        """Fold one fill in; the position and trade events it causes."""
        context = context if context is not None else _context_of_fill(fill)
        signed = fill.quantity if fill.side == "BUY" else -fill.quantity
        target = self.target(origin, fill.contract)
        if target is None:
            return self._open_new(fill, origin, context, signed, fill.charges.total)
        state = self._open[target.position_id]
        if (signed > 0) == (target.quantity > 0):
            return [self._add(state, fill, signed, fill.charges.total)]
        closing = min(fill.quantity, abs(target.quantity))
        closing_charges = fill.charges.total * closing / fill.quantity
        events = self._reduce(state, fill, origin, context, closing, closing_charges)
        rest = fill.quantity - closing
        if rest:
            rest_signed = rest if signed > 0 else -rest
            rest_charges = fill.charges.total - closing_charges
            events += self._open_new(fill, origin, context, rest_signed, rest_charges)
        return events

    def adopt(self, position: Position) -> None:
        """Take a recorded position as the truth (restoring from PositionOpened/Updated)."""
        state = self._open.get(position.position_id)
        if state is not None:
            state.position = position
            return
        units = abs(position.quantity)
        self._open[position.position_id] = _Open(position, position.average_price * units, units)

    def drop(self, position_id: str) -> None:
        """Forget a position recorded as closed."""
        self._open.pop(position_id, None)

    def _open_new(
        self, fill: Fill, origin: OrderOrigin, context: MarketContext, signed: int, charges: float
    ) -> list[Event]:
        position_id = derived_event_id("position", fill.fill_id)
        position = Position(
            position_id=position_id,
            strategy=origin.strategy,
            group_id=origin.group_id,
            contract=fill.contract,
            quantity=signed,
            average_price=fill.price,
            entry=context,
            model=origin.model,
            charges=round(charges, _PAISA_DIGITS),
        )
        self._open[position_id] = _Open(position, fill.price * abs(signed), abs(signed))
        return [
            PositionOpened(
                event_id=derived_event_id("exec.position.opened", position_id),
                ts_event=fill.ts_event,
                ts_init=self._clock.now_ns(),
                position=position,
            )
        ]

    def _add(self, state: _Open, fill: Fill, signed: int, charges: float) -> PositionUpdated:
        old = state.position
        units = abs(old.quantity) + fill.quantity
        average = (old.average_price * abs(old.quantity) + fill.price * fill.quantity) / units
        state.entry_value += fill.price * fill.quantity
        state.entry_units += fill.quantity
        state.position = _replace(old, old.quantity + signed, average, old.charges + charges)
        return self._updated(state.position, fill)

    def _reduce(
        self,
        state: _Open,
        fill: Fill,
        origin: OrderOrigin,
        context: MarketContext,
        closing: int,
        charges: float,
    ) -> list[Event]:
        old = state.position
        state.exit_value += fill.price * closing
        state.exit_units += closing
        remaining = old.quantity - closing if old.quantity > 0 else old.quantity + closing
        state.position = _replace(old, remaining, old.average_price, old.charges + charges)
        if remaining:
            return [self._updated(state.position, fill)]
        del self._open[old.position_id]
        exit = _Exit(fill.ts_event, origin.reason, context)
        return self._closed(state, exit, old.quantity > 0)

    def settle(self, settled: PositionSettled, context: MarketContext) -> list[Event]:
        """Close a position settled at expiry: it leaves at its intrinsic value a unit.

        A settlement of a position no longer open (a redelivery) changes nothing.
        """
        state = self._open.pop(settled.position_id, None)
        if state is None:
            return []
        old = state.position
        units = abs(old.quantity)
        state.exit_value += settled.intrinsic_value * units
        state.exit_units += units
        state.position = _replace(old, 0, old.average_price, old.charges + settled.charges.total)
        reason = f"{SETTLEMENT_EXIT_REASON}: {settled.outcome}"
        exit = _Exit(settled.ts_event, reason, context)
        return self._closed(state, exit, old.quantity > 0)

    def _closed(self, state: _Open, exit: _Exit, is_long: bool) -> list[Event]:
        """The events of a position that is now flat: it closed, and its trade."""
        closed = PositionClosed(
            event_id=derived_event_id("exec.position.closed", state.position.position_id),
            ts_event=exit.ts_event,
            ts_init=self._clock.now_ns(),
            position_id=state.position.position_id,
        )
        return [closed, self._trade(state, exit, is_long)]

    def _trade(self, state: _Open, exit: _Exit, is_long: bool) -> TradeClosed:
        position = state.position
        cash = state.exit_value - state.entry_value
        gross = round(cash if is_long else -cash, _PAISA_DIGITS)
        charges = round(position.charges, _PAISA_DIGITS)
        return TradeClosed(
            event_id=derived_event_id("exec.trade.closed", position.position_id),
            ts_event=exit.ts_event,
            ts_init=self._clock.now_ns(),
            trade_id=derived_event_id("trade", position.position_id),
            position_id=position.position_id,
            strategy=position.strategy,
            group_id=position.group_id,
            contract=position.contract,
            quantity=state.entry_units if is_long else -state.entry_units,
            entry_price=state.entry_value / state.entry_units,
            exit_price=state.exit_value / state.exit_units,
            entry=position.entry,
            exit=exit.context,
            model=position.model,
            exit_reason=exit.reason,
            gross_pnl=gross,
            charges=charges,
            net_pnl=gross - charges,
        )

    def _updated(self, position: Position, fill: Fill) -> PositionUpdated:
        return PositionUpdated(
            event_id=derived_event_id("exec.position.updated", position.position_id, fill.fill_id),
            ts_event=fill.ts_event,
            ts_init=self._clock.now_ns(),
            position=position,
        )


def flatten_intents(
    positions: list[Position], ts_ns: int, reason: str, ts_init: int | None = None
) -> list[OrderIntent]:
    """Close intents at market for every position (the kill switch's flatten), one each.

    Each names its position, so it closes that position and nothing else; its ids are fixed by
    the position and ``ts_ns``, so a redelivered engage makes the same intents.
    """
    intents = []
    for position in positions:
        intent_id = derived_event_id("flatten", position.position_id, ts_ns)
        leg = Leg(
            contract=position.contract,
            side="SELL" if position.quantity > 0 else "BUY",
            quantity=abs(position.quantity),
        )
        intents.append(
            OrderIntent(
                event_id=derived_event_id("strategy.intent", intent_id),
                ts_event=ts_ns,
                ts_init=ts_ns if ts_init is None else ts_init,
                intent_id=intent_id,
                group_id=position.group_id,
                strategy=position.strategy,
                purpose="close",
                legs=[leg],
                reason=reason,
                position_ids=[position.position_id],
            )
        )
    return intents


def _replace(old: Position, quantity: int, average: float, charges: float) -> Position:
    return Position(
        position_id=old.position_id,
        strategy=old.strategy,
        group_id=old.group_id,
        contract=old.contract,
        quantity=quantity,
        average_price=average,
        entry=old.entry,
        model=old.model,
        charges=round(charges, _PAISA_DIGITS),
    )


def _context_of_fill(fill: Fill) -> MarketContext:
    """A bare context from the fill alone, for folding fills where no quote is at hand."""
    return MarketContext(
        ts=fill.ts_event, option_price=fill.price, iv=None, delta=None, gamma=None, theta=None,
        vega=None, spot=0.0, forward=0.0, india_vix=None, pcr=None, open_interest=0,
    )  # fmt: skip
