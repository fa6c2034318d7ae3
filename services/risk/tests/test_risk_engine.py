"""The risk engine over many chains: closes of positions whose strikes left the chain, and how
often the monitor asks again for a close that risk refuses."""

from __future__ import annotations

from dataclasses import replace

from risk_builders import (
    CONFIG,
    FORWARD,
    NIFTY_LOT,
    SECOND,
    STRIKES,
    TS,
    chain,
    contract,
    env,
    position,
    released_state,
    with_config,
)

from optbus.events import ChainGreeks, KillSwitchCommand, KillSwitchEngaged, RiskDecision
from optbus_risk.config import NS_PER_MINUTE, RiskConfig
from optbus_risk.engine import RiskEngine

HELD_TOO_LONG = TS - (CONFIG.monitor.max_holding_minutes + 1) * NS_PER_MINUTE
"""An entry time that makes the monitor close a position on the next chain."""


def _engine(*held: tuple[float, int], config: RiskConfig = CONFIG) -> RiskEngine:
    """An engine holding a quantity of each strike's call, each past its holding time."""
    positions = tuple(
        position(contract(strike), quantity=quantity, entry_ts=HELD_TOO_LONG, position_id=f"p{i}")
        for i, (strike, quantity) in enumerate(held)
    )
    state = replace(
        released_state(chain(ts=TS - SECOND)), positions={p.position_id: p for p in positions}
    )
    return RiskEngine(env(TS, config), state)


def _decisions(engine: RiskEngine, chains: list[ChainGreeks]) -> list[RiskDecision]:
    return [e for c in chains for e in engine.on_chain(c) if isinstance(e, RiskDecision)]


def test_closes_are_approved_when_a_held_strike_left_the_chain() -> None:
    delisted_long, listed_short = (STRIKES[0], NIFTY_LOT), (FORWARD, -NIFTY_LOT)
    engine = _engine(delisted_long, listed_short)

    decisions = _decisions(engine, [chain(ts=TS, strikes=STRIKES[1:])])

    assert [(d.intent.position_ids, d.approved) for d in decisions] == [
        (["p1"], True), (["p0"], True),
    ]  # fmt: skip
    first_margin = next(c for c in decisions[0].checks if c.name == "margin")
    stale = f"NIFTY 2026-12-08 {STRIKES[0]:g} CE marked at its last quote, 1 s old"
    assert stale in first_margin.detail


def test_a_close_refused_on_every_chain_is_asked_for_a_few_times_a_minute() -> None:
    never_passes = with_config(orders={"max_notional_per_order": 1.0})
    engine = _engine((FORWARD, -NIFTY_LOT), config=never_passes)
    minutes = 10
    chains = [chain(ts=TS + n * SECOND) for n in range(minutes * 60)]

    decisions = _decisions(engine, chains)

    assert not any(d.approved for d in decisions)
    retries_per_minute = 60 // CONFIG.monitor.close_retry_seconds
    assert 0 < len(decisions) <= minutes * retries_per_minute + 6


def test_deciding_a_command_leaves_the_engine_s_switch_as_it_was() -> None:
    engine = _engine()

    engine.decide_command(KillSwitchCommand(action="engage", reason="drill", operator="asha"), "c")

    assert engine.state.kill_switch.status == "released"


def test_acting_on_a_decided_engage_halts_and_announces_it() -> None:
    engine = _engine()
    step = engine.decide_command(
        KillSwitchCommand(action="engage", reason="drill", operator="asha"), "c"
    )

    produced = engine.act_on_command(step)

    assert engine.state.kill_switch.halted
    assert [type(event) for event in produced] == [KillSwitchEngaged]
