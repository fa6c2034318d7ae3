"""Builders shared by the execution tests: chains, intents, decisions and an engine."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from optbus.clock import ReplayClock
from optbus.events import (
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    Contract,
    Event,
    Leg,
    ModelStamp,
    OptionChainSnapshot,
    OrderIntent,
    OrderPurpose,
    RiskDecision,
    Side,
    SideGreeks,
    VolatilityIndexTick,
)
from optbus.market import load_market_facts
from optbus_execution.config import PaperBrokerConfig, SlippageModel
from optbus_execution.engine import ExecutionEngine
from optbus_execution.paper import PaperBroker

E = TypeVar("E", bound=Event)

FACTS = load_market_facts()
DAY = date(2026, 12, 2)
EXPIRY = date(2026, 12, 8)
SECOND = 1_000_000_000
MS = 1_000_000
T0 = FACTS.session_open_ns(DAY) + 3_600 * SECOND
LATENCY = 100 * MS
STRIKES = [25_900.0, 26_000.0, 26_100.0]
CALL = Contract(underlying="NIFTY", expiry=EXPIRY, strike=26_000.0, option_type="CE")
PUT = Contract(underlying="NIFTY", expiry=EXPIRY, strike=26_000.0, option_type="PE")
LOT = 65
MODEL = ModelStamp(
    ml_score=0.7, model_version="baseline-v0", model_hash="abc123", features={"iv_rank": 0.4}
)


def config(**overrides: object) -> PaperBrokerConfig:
    """The broker configuration of the tests (100 ms latency, 5 s quote age, Rs 20)."""
    fields: dict[str, object] = {
        "algo_id": "ALGO-TEST-1",
        "latency_ns": LATENCY,
        "max_quote_age_ns": 5 * SECOND,
        "slippage": SlippageModel(spread_fraction=0.0, size_impact=0.5),
        "brokerage_per_order": 20.0,
    }
    fields.update(overrides)
    return PaperBrokerConfig(**fields)  # type: ignore[arg-type]


def engine(**overrides: object) -> ExecutionEngine:
    """A fresh engine on a replay clock, trading with the paper broker."""
    paper, clock = config(**overrides), ReplayClock(T0)
    return ExecutionEngine(paper.execution(), PaperBroker(paper, FACTS, clock), clock, FACTS)


def chain(
    ts: int,
    bid: float = 120.0,
    ask: float = 120.5,
    bid_size: int = 1_300,
    ask_size: int = 1_300,
    spot: float = 26_050.0,
    expiry: date = EXPIRY,
) -> ChainGreeks:
    """A NIFTY chain at ``ts`` whose every option shows the same touch (futures: spot + 40)."""
    n = len(STRIKES)
    side = ChainSide(
        bid=[bid] * n, ask=[ask] * n, last=[(bid + ask) / 2] * n, bid_size=[bid_size] * n,
        ask_size=[ask_size] * n, volume=[1_000] * n, open_interest=[50_000] * n,
    )  # fmt: skip
    snapshot = OptionChainSnapshot(
        event_id=f"snap-{ts}", ts_event=ts, ts_init=ts, underlying="NIFTY", expiry=expiry,
        spot=spot, futures=spot + 40, lot_size=LOT, strikes=STRIKES, calls=side, puts=side,
    )  # fmt: skip
    return ChainGreeks(
        event_id=f"chain-{ts}", ts_event=ts, ts_init=ts, source_event_id=snapshot.event_id,
        snapshot=snapshot, model="black76", forward=spot + 35, rate=0.065, time_to_expiry=0.016,
        calls=_greeks(n, 0.5), puts=_greeks(n, -0.5),
        aggregates=ChainAggregates(
            atm_iv=0.14, risk_reversal_25d=None, butterfly_25d=None, pcr_open_interest=0.9,
            pcr_volume=1.1, max_pain=26_000.0,
        ),
    )  # fmt: skip


def _greeks(n: int, delta: float) -> SideGreeks:
    return SideGreeks(
        iv=[0.14] * n, delta=[delta] * n, gamma=[0.0012] * n, theta=[-11.0] * n,
        vega=[14.0] * n, rho=[1.0] * n, iv_status=["ok"] * n,
    )  # fmt: skip


def vix(ts: int, value: float = 13.5, index: str = "INDIAVIX") -> VolatilityIndexTick:
    """An India VIX tick."""
    return VolatilityIndexTick(
        event_id=f"vix-{ts}", ts_event=ts, ts_init=ts, index=index, value=value
    )


def intent(
    side: Side = "BUY",
    quantity: int = LOT,
    *,
    purpose: OrderPurpose = "open",
    contract: Contract = CALL,
    limit_price: float | None = None,
    intent_id: str = "intent-1",
    reason: str = "entry",
    position_ids: list[str] | None = None,
    ts: int = T0,
) -> OrderIntent:
    """A one-leg intent of the strategy "test" (opening intents carry the model stamp)."""
    leg = Leg(contract=contract, side=side, quantity=quantity, limit_price=limit_price)
    return OrderIntent(
        event_id=f"ev-{intent_id}", ts_event=ts, ts_init=ts, intent_id=intent_id,
        group_id=f"group-{intent_id}" if purpose == "open" else "group-exit", strategy="test",
        purpose=purpose, legs=[leg], reason=reason, position_ids=position_ids or [],
        model=MODEL if purpose == "open" else None,
    )  # fmt: skip


def approved(
    order_intent: OrderIntent, ts: int | None = None, margin_required: float | None = 0.0
) -> RiskDecision:
    """Risk's approval of ``order_intent``, with the margin risk computed for it."""
    at = order_intent.ts_event if ts is None else ts
    return RiskDecision(
        event_id=f"decision-{order_intent.intent_id}", ts_event=at, ts_init=at,
        intent=order_intent, approved=True, checks=[], margin_required=margin_required,
    )  # fmt: skip


def of_type(events: list[Event], kind: type[E]) -> list[E]:
    """The events of one type, in order."""
    return [event for event in events if isinstance(event, kind)]


def submit_and_fill(
    e: ExecutionEngine, order_intent: OrderIntent, at: int, **quote: float
) -> list[Event]:
    """A quote at ``at``, the approved intent, then the same quote after the latency."""
    events = e.on_chain(chain(at, **quote))  # type: ignore[arg-type]
    events += e.on_decision(approved(order_intent, at))
    events += e.on_chain(chain(at + 2 * LATENCY, **quote))  # type: ignore[arg-type]
    return events
