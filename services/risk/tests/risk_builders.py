"""Builders shared by the risk tests: chains priced by Black-76, contracts, intents, positions."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
from msgspec import structs

from optbus.clock import ReplayClock
from optbus.events import (
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    Contract,
    Leg,
    MarketContext,
    OptionChainSnapshot,
    OrderIntent,
    Position,
    Side,
    SideGreeks,
)
from optbus.market import load_market_facts
from optbus.pricing import black76_greeks, time_to_expiry_years
from optbus.quotes import quote_in_chain
from optbus_risk.config import RiskConfig, load_risk_config
from optbus_risk.context import CheckContext, RiskEnv
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.state import RiskState

FACTS = load_market_facts()
CONFIG = load_risk_config()
DAY = date(2026, 12, 2)
EXPIRY = date(2026, 12, 8)
OPEN_NS = FACTS.session_open_ns(DAY)
TS = OPEN_NS + 3_600 * 10**9
SECOND = 10**9
RATE = 0.065
FORWARD = 26_000.0
VOL = 0.14
STRIKES = [FORWARD + 50.0 * k for k in range(-20, 21)]
NIFTY_LOT = FACTS.contract("NIFTY", DAY).lot_size
NIFTY_FREEZE = FACTS.contract("NIFTY", DAY).freeze_quantity

_ids = itertools.count()


def contract(strike: float, option_type: str = "CE", **overrides: Any) -> Contract:
    """A NIFTY contract of the test expiry."""
    fields: dict[str, Any] = {
        "underlying": "NIFTY", "expiry": EXPIRY, "strike": strike, "option_type": option_type,
    }  # fmt: skip
    fields.update(overrides)
    return Contract(**fields)


def leg(
    strike: float = FORWARD,
    option_type: str = "CE",
    side: Side = "BUY",
    lots: int = 1,
    quantity: int | None = None,
    limit_price: float | None = None,
) -> Leg:
    """A leg of ``lots`` NIFTY lots (or an exact ``quantity``)."""
    return Leg(
        contract=contract(strike, option_type),
        side=side,
        quantity=lots * NIFTY_LOT if quantity is None else quantity,
        limit_price=limit_price,
    )


def intent(*legs: Leg, ts: int = TS, purpose: str = "open", **overrides: Any) -> OrderIntent:
    """An intent with a fresh id (one ATM call bought when no legs are given)."""
    n = next(_ids)
    fields: dict[str, Any] = {
        "event_id": f"intent-event-{n}", "ts_event": ts, "ts_init": ts,
        "intent_id": f"intent-{n}", "group_id": f"group-{n}", "strategy": "TEST",
        "purpose": purpose, "legs": list(legs) or [leg()], "reason": "test",
    }  # fmt: skip
    fields.update(overrides)
    return OrderIntent(**fields)


def _side(prices: np.ndarray, spread: float, size: int) -> ChainSide:
    half = spread / 2
    bid = np.maximum(prices - half, 0.05)
    n = len(prices)
    return ChainSide(
        bid=bid.tolist(), ask=(bid + spread).tolist(), last=prices.tolist(),
        bid_size=[size] * n, ask_size=[size] * n, volume=[1000] * n, open_interest=[50_000] * n,
    )  # fmt: skip


def _greeks(g: Any) -> SideGreeks:
    n = len(g.price)
    return SideGreeks(
        iv=[VOL if np.isfinite(p) else None for p in g.price], delta=g.delta.tolist(),
        gamma=g.gamma.tolist(), theta=g.theta.tolist(), vega=g.vega.tolist(),
        rho=g.rho.tolist(), iv_status=["ok"] * n,
    )  # fmt: skip


def chain(
    ts: int = TS,
    forward: float = FORWARD,
    vol: float = VOL,
    expiry: date = EXPIRY,
    strikes: list[float] | None = None,
    spread: float = 0.5,
) -> ChainGreeks:
    """A NIFTY chain priced by Black-76 at one forward and one flat volatility."""
    listed = np.asarray(strikes or STRIKES)
    t = time_to_expiry_years(ts, FACTS.expiry_close_ns(expiry))
    calls = black76_greeks(True, forward, listed, t, RATE, vol)
    puts = black76_greeks(False, forward, listed, t, RATE, vol)
    snapshot = OptionChainSnapshot(
        event_id=f"snap-{ts}-{forward}", ts_event=ts, ts_init=ts, underlying="NIFTY",
        expiry=expiry, spot=forward - 20.0, futures=forward, lot_size=NIFTY_LOT,
        strikes=listed.tolist(), calls=_side(calls.price, spread, 1800),
        puts=_side(puts.price, spread, 1800),
    )  # fmt: skip
    aggregates = ChainAggregates(
        atm_iv=vol, risk_reversal_25d=0.0, butterfly_25d=0.0, pcr_open_interest=1.0,
        pcr_volume=1.0, max_pain=forward,
    )  # fmt: skip
    greeks = ChainGreeks(
        event_id=f"greeks-{ts}-{forward}", ts_event=ts, ts_init=ts, source_event_id="snap",
        snapshot=snapshot, model="black76", forward=forward, rate=RATE, time_to_expiry=t,
        calls=_greeks(calls), puts=_greeks(puts), aggregates=aggregates,
    )  # fmt: skip
    return greeks


def mark_of(quoted: ChainGreeks, held: Contract) -> float:
    """The mark price of ``held`` in ``quoted`` (which must list it with a price)."""
    quote = quote_in_chain(quoted, held)
    assert quote is not None
    assert quote.mark is not None
    return quote.mark


def market_context(ts: int = TS, price: float = 100.0) -> MarketContext:
    """An entry context (the monitor reads only its time)."""
    return MarketContext(
        ts=ts, option_price=price, iv=VOL, delta=0.5, gamma=0.001, theta=-5.0, vega=10.0,
        spot=FORWARD, forward=FORWARD, india_vix=13.0, pcr=1.0, open_interest=50_000,
    )  # fmt: skip


def position(
    held: Contract | None = None,
    quantity: int = NIFTY_LOT,
    average_price: float = 100.0,
    entry_ts: int = TS,
    position_id: str | None = None,
) -> Position:
    """An open position (negative quantity is short)."""
    return Position(
        position_id=position_id or f"pos-{next(_ids)}", strategy="TEST", group_id="g",
        contract=held or contract(FORWARD), quantity=quantity, average_price=average_price,
        entry=market_context(entry_ts, average_price), model=None, charges=0.0,
    )  # fmt: skip


def released_state(*chains: ChainGreeks, positions: tuple[Position, ...] = ()) -> RiskState:
    """A state with the kill switch released, the given chains and positions."""
    state = RiskState.initial(KillSwitchState.released())
    known = {(c.snapshot.underlying, c.snapshot.expiry): c for c in chains}
    return replace(state, chains=known, positions={p.position_id: p for p in positions})


def env(now_ns: int = TS, config: RiskConfig = CONFIG) -> RiskEnv:
    """Limits from config/risk.toml, the shipped market facts, a replay clock at ``now_ns``."""
    return RiskEnv(config=config, facts=FACTS, clock=ReplayClock(now_ns))


def ctx(state: RiskState, now_ns: int = TS, config: RiskConfig = CONFIG) -> CheckContext:
    """A check context over ``state`` at ``now_ns``."""
    return CheckContext(config=config, facts=FACTS, state=state, now_ns=now_ns)


def with_config(**sections: Any) -> RiskConfig:
    """The shipped config with some fields or sections replaced (``orders={...}``)."""
    changes: dict[str, Any] = {}
    for name, value in sections.items():
        current = getattr(CONFIG, name)
        changes[name] = structs.replace(current, **value) if isinstance(value, dict) else value
    return structs.replace(CONFIG, **changes)
