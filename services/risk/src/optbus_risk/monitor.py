"""Position monitoring: close intents for open positions on stop, target, time, expiry, flatten.

On each ChainGreeks, every open position quoted by that chain is tested against the exit rules
in order (kill-switch flatten, expiry day, stop loss, target, holding time); the first that
fires makes one close intent (purpose "close", the position's strategy and group, a market
order for the whole quantity, the trigger in the reason). A position with a close pending (the
monitor's own, younger than the retry time, or any approved close still working) gets no other;
after risk refuses the monitor's close, it asks again only after a back-off (``retry_after_ns``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from optbus.events import ChainGreeks, Leg, OrderIntent, Position
from optbus.ids import derived_event_id
from optbus.quotes import OptionQuote, chain_key, key_of_chain, quote_in_chain
from optbus_risk.config import NS_PER_MINUTE, MonitorConfig, RiskConfig
from optbus_risk.context import RiskEnv
from optbus_risk.state import PendingClose, RiskState

FLATTEN = "kill_switch_flatten"
EXPIRY_DAY = "expiry_day"
STOP_LOSS = "stop_loss"
TARGET = "target"
MAX_HOLDING = "max_holding_time"


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """The state with the new closes marked pending, and the close intents to publish."""

    state: RiskState
    intents: tuple[OrderIntent, ...]


def close_pending(state: RiskState, position_id: str, ts_ns: int, config: RiskConfig) -> bool:
    """Whether a close of the position is under way, or was refused too recently to ask again,
    so that no other may be sent now."""
    pending = state.pending_closes.get(position_id)
    if pending is not None and ts_ns - pending.ts_ns < retry_after_ns(pending, config):
        return True
    return state.closing(position_id)


def retry_after_ns(pending: PendingClose, config: RiskConfig) -> int:
    """How long after ``pending`` was sent the monitor may send another close.

    A close not done (no decision yet, or approved and not filled) waits the retry time. A
    refused one is retried after the order-rate window (the most common passing refusal),
    doubling with each refusal in a row, up to the retry time: a close that cannot pass is
    asked for a few times a minute, not on every chain.
    """
    retry_ns = config.monitor.close_retry_ns
    if pending.rejections == 0:
        return retry_ns
    doublings = min(pending.rejections - 1, retry_ns.bit_length())
    return min(retry_ns, config.order_rate.window_ns << doublings)


def price_trigger(position: Position, mark: float, config: MonitorConfig) -> str | None:
    """Stop loss or target from the move of the price since entry, or None."""
    entry = position.average_price
    if entry <= 0:
        return None
    move_pct = (mark - entry) / entry * 100
    if position.quantity > 0:
        if move_pct <= -config.stop_loss_long_pct:
            return f"{STOP_LOSS}: {_seen(position, mark)}, stop at -{config.stop_loss_long_pct}%"
        if move_pct >= config.target_long_pct:
            return f"{TARGET}: {_seen(position, mark)}, target at +{config.target_long_pct}%"
        return None
    if move_pct >= config.stop_loss_short_pct:
        return f"{STOP_LOSS}: {_seen(position, mark)}, stop at +{config.stop_loss_short_pct}%"
    if move_pct <= -config.target_short_pct:
        return f"{TARGET}: {_seen(position, mark)}, target at -{config.target_short_pct}%"
    return None


def _seen(position: Position, mark: float) -> str:
    """What the monitor saw, for the reason of a price exit (written only when one fires)."""
    entry = position.average_price
    move_pct = (mark - entry) / entry * 100
    direction = "long" if position.quantity > 0 else "short"
    return f"{direction} price {mark:.2f} vs entry {entry:.2f} ({move_pct:+.1f}%)"


def exit_trigger(
    position: Position,
    quote: OptionQuote | None,
    ts_ns: int,
    state: RiskState,
    env: RiskEnv,
    now: datetime,
) -> str | None:
    """The first exit rule that fires for the position at ``ts_ns`` (with its detail), or None.

    ``now`` is ``ts_ns`` as exchange-local time, read once per chain by the caller.
    """
    config = env.config.monitor
    if state.kill_switch.flattening:
        return f"{FLATTEN}: {state.kill_switch.describe()}"
    expiry = position.contract.expiry
    if now.date() > expiry or (now.date() == expiry and now.time() >= config.expiry_day_exit):
        return f"{EXPIRY_DAY}: expires {expiry.isoformat()}, exit from {config.expiry_day_exit}"
    mark = None if quote is None else quote.mark
    if mark is not None:
        by_price = price_trigger(position, mark, config)
        if by_price is not None:
            return by_price
    held_ns = ts_ns - position.entry.ts
    if held_ns >= config.max_holding_ns:
        minutes = held_ns / NS_PER_MINUTE
        return f"{MAX_HOLDING}: held {minutes:,.0f} min (limit {config.max_holding_minutes})"
    return None


def close_intent(
    position: Position, reason: str, *, trigger_id: str, ts_event: int, env: RiskEnv
) -> OrderIntent:
    """A market order closing the whole position, with ids fixed by the trigger event."""
    quantity: int = position.quantity
    return OrderIntent(
        event_id=derived_event_id(trigger_id, "risk.monitor.close", position.position_id),
        ts_event=ts_event,
        ts_init=env.clock.now_ns(),
        intent_id=derived_event_id("close", position.position_id, trigger_id),
        group_id=position.group_id,
        strategy=position.strategy,
        purpose="close",
        legs=[
            Leg(
                contract=position.contract,
                side="SELL" if quantity > 0 else "BUY",
                quantity=abs(quantity),
            )
        ],
        reason=f"monitor {reason}",
        position_ids=[position.position_id],
        model=position.model,
    )


def _in_closing_order(positions: list[Position]) -> list[Position]:
    """Shorts first (closing them frees the most margin), then by id for determinism."""
    return sorted(positions, key=lambda p: (p.quantity > 0, p.position_id))


def _emit(
    state: RiskState, closes: list[tuple[Position, str]], trigger_id: str, ts: int, env: RiskEnv
) -> MonitorResult:
    if not closes:
        return MonitorResult(state=state, intents=())
    intents = tuple(
        close_intent(position, reason, trigger_id=trigger_id, ts_event=ts, env=env)
        for position, reason in closes
    )
    pending = dict(state.pending_closes)
    for intent in intents:
        position_id = intent.position_ids[0]
        before = pending.get(position_id)
        rejections = 0 if before is None else before.rejections
        pending[position_id] = PendingClose(intent.intent_id, ts_ns=ts, rejections=rejections)
    return MonitorResult(state=replace(state, pending_closes=pending), intents=intents)


def monitor_positions(chain: ChainGreeks, state: RiskState, env: RiskEnv) -> MonitorResult:
    """Close intents for the open positions quoted by ``chain`` whose exit rule fires."""
    key = key_of_chain(chain)
    ts = chain.ts_event
    closes: list[tuple[Position, str]] = []
    quoted = [p for p in state.positions.values() if chain_key(p.contract) == key]
    if not quoted:
        return _emit(state, closes, chain.event_id, ts, env)
    now = env.facts.local_datetime(ts)
    for position in _in_closing_order(quoted):
        if close_pending(state, position.position_id, ts, env.config):
            continue
        quote = quote_in_chain(chain, position.contract)
        reason = exit_trigger(position, quote, ts, state, env, now)
        if reason is not None:
            closes.append((position, reason))
    return _emit(state, closes, chain.event_id, ts, env)


def flatten_positions(
    state: RiskState, *, trigger_id: str, ts_event: int, env: RiskEnv
) -> MonitorResult:
    """Close intents for every open position, at once, when the kill switch says flatten.

    Call it when a KillSwitchEngaged with flatten is folded (``trigger_id`` is that event's
    id); it does nothing unless the state is flattening.
    """
    if not state.kill_switch.flattening:
        return MonitorResult(state=state, intents=())
    reason = f"{FLATTEN}: {state.kill_switch.describe()}"
    closes = [
        (position, reason)
        for position in _in_closing_order(list(state.positions.values()))
        if not close_pending(state, position.position_id, ts_event, env.config)
    ]
    return _emit(state, closes, trigger_id, ts_event, env)
