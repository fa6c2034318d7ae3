"""Random sessions of intents, fills, cancels, price moves and kill-switch commands.

Invariants after every approved intent: the book (positions plus approved quantities not yet
filled) is within every limit, or no further over it than before the intent; no window of the
order-rate length holds more orders than the limit; nothing opens while the switch is halted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from risk_builders import (
    DAY,
    FORWARD,
    NIFTY_FREEZE,
    NIFTY_LOT,
    TS,
    chain,
    contract,
    ctx,
    env,
    intent,
    position,
    released_state,
    with_config,
)

from optbus.events import (
    Charges,
    Contract,
    Event,
    Fill,
    KillSwitchCommand,
    Leg,
    Order,
    OrderCancelled,
    OrderIntent,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    Side,
)
from optbus.slicing import freeze_slices
from optbus_risk.book import current_book, exposure
from optbus_risk.checks import margin_limit
from optbus_risk.checks.runner import CheckRunner
from optbus_risk.config import RiskConfig
from optbus_risk.context import RiskEnv
from optbus_risk.fold import command, evolve
from optbus_risk.margin import margin_required
from optbus_risk.state import RiskState

TIGHT = with_config(
    capital=1_000_000.0,
    portfolio={"max_open_positions": 4, "max_abs_delta_notional": 2e6, "max_abs_vega": 6_000.0},
)
"""Small limits that small orders reach: position, margin and Greek limits bind."""
WIDE = with_config(
    capital=20_000_000.0,
    orders={"max_notional_per_order": 1e9, "max_premium_per_order": 1e8},
    portfolio={"max_open_positions": 6, "max_abs_delta_notional": 4e7, "max_abs_vega": 6e4},
)
"""Limits wide enough for orders above the freeze quantity: the order rate binds."""
CONTRACTS = [contract(FORWARD + step, kind) for step in (-200, 0, 200) for kind in ("CE", "PE")]
NO_CHARGES = Charges(brokerage=0, stt=0, exchange_transaction=0, sebi=0, stamp_duty=0, gst=0)

legs = st.lists(
    st.builds(
        Leg,
        contract=st.sampled_from(CONTRACTS),
        side=st.sampled_from(["BUY", "SELL"]),
        quantity=st.sampled_from(
            [
                NIFTY_LOT,
                NIFTY_LOT,
                3 * NIFTY_LOT,
                10 * NIFTY_LOT,
                NIFTY_FREEZE + NIFTY_LOT,
                2 * NIFTY_FREEZE + NIFTY_LOT,
                7,
            ]
        ),
    ),
    min_size=1,
    max_size=3,
)


@dataclass(frozen=True)
class Measures:
    """The limited measures of a book."""

    margin: float
    delta: float
    vega: float
    positions: int


def measure(state: RiskState, config: RiskConfig) -> Measures:
    """Every limited measure of the state's book (positions plus working quantities)."""
    book = current_book(state)
    risk = exposure(book, state.marks)
    margin = margin_required(book, state.marks, config.margin, DAY).total
    return Measures(margin, risk.delta_notional, risk.vega, len(book))


def within(after: float, before: float, limit: float) -> bool:
    """Within the limit, or no further over it than before (with float tolerance)."""
    return abs(after) <= max(limit, abs(before)) * (1 + 1e-9) + 1e-6


class RiskSession(RuleBasedStateMachine):
    """One trading session of random events folded through the risk domain."""

    def __init__(self) -> None:
        super().__init__()
        self.config = TIGHT
        self.now = TS
        self.forward = FORWARD
        self.vol = 0.14
        self.state = released_state(chain(ts=TS))
        self.approved_orders: list[tuple[int, int]] = []
        self.sequence = 0

    @initialize(config=st.sampled_from([TIGHT, WIDE]))
    def limits(self, config: RiskConfig) -> None:
        self.config = config

    def _env(self) -> RiskEnv:
        return env(self.now, self.config)

    def _fold(self, event: Event) -> None:
        self.state = evolve(self.state, event, self._env()).state

    def _next_id(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}-{self.sequence}"

    @rule(proposed=legs, purpose=st.sampled_from(["open", "close"]), gap_ms=st.integers(0, 400))
    def submit(self, proposed: list[Leg], purpose: str, gap_ms: int) -> None:
        self.now += gap_ms * 1_000_000
        order = intent(*proposed, ts=self.now, purpose=purpose)
        self._decide(order)

    @precondition(lambda self: bool(self.state.positions))
    @rule(data=st.data())
    def close_a_position(self, data: st.DataObject) -> None:
        held = data.draw(st.sampled_from(sorted(self.state.positions)))
        pos = self.state.positions[held]
        side: Side = "SELL" if pos.quantity > 0 else "BUY"
        close = Leg(contract=pos.contract, side=side, quantity=abs(pos.quantity))
        self._decide(intent(close, ts=self.now, purpose="close", position_ids=[held]))

    def _decide(self, order: OrderIntent) -> None:
        config = self.config
        before = measure(self.state, config)
        halted = self.state.kill_switch.halted
        decision = CheckRunner(self._env()).decide(order, self.state)
        self._fold(decision)
        if not decision.approved:
            return
        assert not (halted and order.purpose == "open")
        after = measure(self.state, config)
        assert within(after.margin, before.margin, margin_limit(ctx(self.state, config=config)))
        assert within(after.delta, before.delta, config.portfolio.max_abs_delta_notional)
        assert within(after.vega, before.vega, config.portfolio.max_abs_vega)
        assert within(after.positions, before.positions, config.portfolio.max_open_positions)
        slices = sum(
            len(freeze_slices(leg.quantity, NIFTY_LOT, NIFTY_FREEZE)) for leg in order.legs
        )
        self.approved_orders.append((self.now, slices))

    @precondition(lambda self: bool(self.state.working))
    @rule(data=st.data(), cancel=st.booleans())
    def execute(self, data: st.DataObject, cancel: bool) -> None:
        intent_id = data.draw(st.sampled_from(sorted(self.state.working)))
        for (held, side), remaining in self.state.working[intent_id].remaining.items():
            if remaining <= 0:
                continue
            client_id = self._next_id("order")
            self._fold(self._order(intent_id, client_id, held, side, remaining))
            if cancel:
                reason = "test cancel"
                self._fold(
                    OrderCancelled(**self._envelope(), client_order_id=client_id, reason=reason)
                )
                continue
            self._fold(Fill(
                **self._envelope(), fill_id=client_id, client_order_id=client_id, contract=held,
                side=side, quantity=remaining, price=100.0, bid=99.0, ask=101.0,
                charges=NO_CHARGES,
            ))  # fmt: skip
            self._apply_to_position(held, remaining if side == "BUY" else -remaining)

    def _envelope(self) -> dict[str, Any]:
        return {"event_id": self._next_id("event"), "ts_event": self.now, "ts_init": self.now}

    def _order(self, intent_id: str, client_id: str, held: Contract, side: Side, qty: int) -> Order:
        return Order(
            **self._envelope(), client_order_id=client_id, algo_id="ALGO", intent_id=intent_id,
            group_id="g", strategy="TEST", purpose="open", contract=held, side=side,
            quantity=qty, order_type="market", limit_price=None,
        )  # fmt: skip

    def _apply_to_position(self, held: Contract, change: int) -> None:
        """Execution's netting, one position per contract."""
        position_id = f"{held.strike:g}{held.option_type}"
        current = self.state.positions.get(position_id)
        quantity = change + (current.quantity if current else 0)
        if quantity == 0:
            self._fold(PositionClosed(**self._envelope(), position_id=position_id))
            return
        updated = position(held, quantity=quantity, entry_ts=self.now, position_id=position_id)
        kind = PositionUpdated if current else PositionOpened
        self._fold(kind(**self._envelope(), position=updated))

    @rule(
        move_pct=st.floats(-2.0, 2.0), vol_move=st.floats(-0.02, 0.02), gap_ms=st.integers(0, 900)
    )
    def market_moves(self, move_pct: float, vol_move: float, gap_ms: int) -> None:
        self.now += gap_ms * 1_000_000
        self.forward *= 1 + move_pct / 100
        self.vol = min(max(self.vol + vol_move, 0.05), 0.6)
        self._fold(chain(ts=self.now, forward=self.forward, vol=self.vol))

    @rule(action=st.sampled_from(["engage", "release"]))
    def operator(self, action: str) -> None:
        cmd = KillSwitchCommand(action=action, reason="test", operator="prop")  # type: ignore[arg-type]
        step = command(
            self.state, cmd, command_id=self._next_id("cmd"), ts_event=self.now, env=self._env()
        )
        self.state = step.state

    @invariant()
    def approved_orders_never_exceed_the_rate_limit(self) -> None:
        window = self.config.order_rate.window_ns
        for end, _ in self.approved_orders[-20:]:
            recent = sum(n for t, n in self.approved_orders if end - window < t <= end)
            assert recent <= self.config.order_rate.max_orders


RiskSession.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
TestRiskSession = RiskSession.TestCase
