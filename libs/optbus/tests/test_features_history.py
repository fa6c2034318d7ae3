"""The feature history's session calendar and IV rank answer as the plain functions do."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from optbus.events import (
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    Contract,
    OptionChainSnapshot,
    SideGreeks,
)
from optbus.features import (
    FeatureHistory,
    SessionCalendar,
    iv_percentile,
    session_bounds_ns,
)
from optbus.market import load_market_facts

FACTS = load_market_facts()
DAY = date(2026, 12, 2)
NS = 1_000_000_000
EMPTY_SIDE = ChainSide(
    bid=[], ask=[], last=[], bid_size=[], ask_size=[], volume=[], open_interest=[]
)
NO_GREEKS = SideGreeks(iv=[], delta=[], gamma=[], theta=[], vega=[], rho=[], iv_status=[])


def _chain(ts: int, atm_iv: float | None) -> ChainGreeks:
    snapshot = OptionChainSnapshot(
        event_id=f"c{ts}", ts_event=ts, ts_init=ts, underlying="NIFTY", expiry=date(2026, 12, 8),
        spot=26_000.0, futures=26_010.0, lot_size=65, strikes=[], calls=EMPTY_SIDE, puts=EMPTY_SIDE,
    )  # fmt: skip
    aggregates = ChainAggregates(
        atm_iv=atm_iv, risk_reversal_25d=None, butterfly_25d=None, pcr_open_interest=None,
        pcr_volume=None, max_pain=None,
    )  # fmt: skip
    return ChainGreeks(
        event_id=f"g{ts}", ts_event=ts, ts_init=ts, source_event_id=f"c{ts}", snapshot=snapshot,
        model="black76", forward=26_010.0, rate=0.065, time_to_expiry=0.01, calls=NO_GREEKS,
        puts=NO_GREEKS, aggregates=aggregates,
    )  # fmt: skip


@settings(max_examples=300)
@given(st.lists(st.integers(0, 40 * 86_400), min_size=1, max_size=20))
def test_the_session_calendar_gives_the_bounds_of_session_bounds_ns(offsets: list[int]) -> None:
    calendar = SessionCalendar(FACTS)
    start = FACTS.session_open_ns(DAY) - 20 * 86_400 * NS

    for offset in offsets:
        ts = start + offset * NS
        assert calendar.bounds_ns(ts) == session_bounds_ns(ts, FACTS)


@given(st.lists(st.one_of(st.none(), st.floats(0.05, 0.5)), min_size=1, max_size=40))
def test_the_iv_rank_is_that_of_the_context_window(ivs: list[float | None]) -> None:
    history = FeatureHistory(FACTS, iv_window=10, iv_sample_seconds=60.0)
    ts = FACTS.session_open_ns(DAY)

    for minute, iv in enumerate(ivs):
        chain = _chain(ts + minute * 30 * NS, iv)
        anchor_window = history.context(chain, _any_contract(chain)).iv_history
        assert history.iv_percentile(chain) == iv_percentile(iv, anchor_window)
        assert history.iv_history_size(chain) == len(anchor_window)
        history.observe_chain(chain)


def _any_contract(chain: ChainGreeks) -> Contract:
    return Contract(
        underlying=chain.snapshot.underlying, expiry=chain.snapshot.expiry, strike=26_000.0,
        option_type="CE",
    )  # fmt: skip
