"""The scoring features: order, values, finiteness and the guarantee that no exit data leaks in."""

from __future__ import annotations

import dataclasses
import inspect
import math
import typing
from datetime import date

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbus import events
from optbus.events import (
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    Contract,
    ModelStamp,
    OptionChainSnapshot,
    SideGreeks,
    VolatilityIndexTick,
)
from optbus.features import (
    FEATURE_NAMES,
    FeatureContext,
    FeatureError,
    FeatureHistory,
    feature_vector,
    iv_percentile,
    option_features,
    session_open_ns,
)
from optbus.market import load_market_facts
from optbus.pricing import black76_greeks, time_to_expiry_years

FACTS = load_market_facts()
DAY = date(2026, 12, 2)
EXPIRY = date(2026, 12, 8)
OPEN_NS = FACTS.session_open_ns(DAY)
TS = OPEN_NS + 75 * 60 * 10**9
STRIKES = np.arange(25_500.0, 26_750.0, 50.0)
FORBIDDEN = (
    "exit", "pnl", "profit", "loss", "charges", "return", "label", "outcome", "realised",
    "realized", "holding", "closed", "fill", "win",
)  # fmt: skip
EXIT_TYPES = (events.MarketContext, events.TradeClosed, events.PositionClosed, events.Fill)


def _side(prices: np.ndarray, oi: int) -> ChainSide:
    n = len(prices)
    bid = np.maximum(np.round(prices - 0.5, 2), 0.0)
    return ChainSide(
        bid=bid.tolist(), ask=(bid + 1.0).tolist(), last=prices.tolist(), bid_size=[65] * n,
        ask_size=[65] * n, volume=[10] * n, open_interest=[oi] * n,
    )  # fmt: skip


def _greeks(is_call: bool, forward: float, t: float, vol: float) -> SideGreeks:
    g = black76_greeks(is_call, forward, STRIKES, t, 0.065, vol)
    n = len(STRIKES)
    return SideGreeks(
        iv=[vol] * n, delta=g.delta.tolist(), gamma=g.gamma.tolist(), theta=g.theta.tolist(),
        vega=g.vega.tolist(), rho=g.rho.tolist(), iv_status=["ok"] * n,
    )  # fmt: skip


def make_chain(
    ts: int = TS, forward: float = 26_100.0, vol: float = 0.14, oi: int = 1_000,
    atm_iv: float | None = 0.14, event_id: str = "chain-1",
) -> ChainGreeks:  # fmt: skip
    t = time_to_expiry_years(ts, FACTS.expiry_close_ns(EXPIRY))
    calls, puts = _greeks(True, forward, t, vol), _greeks(False, forward, t, vol)
    snapshot = OptionChainSnapshot(
        event_id=event_id, ts_event=ts, ts_init=ts, underlying="NIFTY", expiry=EXPIRY,
        spot=forward - 40.0, futures=forward, lot_size=65, strikes=STRIKES.tolist(),
        calls=_side(np.asarray(black76_greeks(True, forward, STRIKES, t, 0.065, vol).price), oi),
        puts=_side(np.asarray(black76_greeks(False, forward, STRIKES, t, 0.065, vol).price), oi),
    )  # fmt: skip
    return ChainGreeks(
        event_id=f"g-{event_id}", ts_event=ts, ts_init=ts, source_event_id=event_id,
        snapshot=snapshot, model="black76", forward=forward, rate=0.065, time_to_expiry=t,
        calls=calls, puts=puts,
        aggregates=ChainAggregates(
            atm_iv=atm_iv, risk_reversal_25d=-0.02, butterfly_25d=0.01, pcr_open_interest=0.9,
            pcr_volume=1.0, max_pain=26_000.0,
        ),
    )  # fmt: skip


def contract(strike: float = 26_100.0, option_type: events.OptionType = "CE") -> Contract:
    return Contract(underlying="NIFTY", expiry=EXPIRY, strike=strike, option_type=option_type)


def features(
    chain: ChainGreeks | None = None, context: FeatureContext | None = None, **kw: typing.Any
) -> dict[str, float]:
    return option_features(
        chain or make_chain(), kw.pop("contract", contract()),
        context or FeatureContext(session_open_ns=OPEN_NS),
        strategy=kw.pop("strategy", "short_strangle"), signal_strength=kw.pop("strength", 0.7),
    )  # fmt: skip


def _reachable_types(root: type) -> set[type]:
    """Every class reachable from ``root`` through annotated fields (structs and dataclasses)."""
    seen: set[type] = set()
    pending: list[object] = [root]
    while pending:
        item = pending.pop()
        for arg in typing.get_args(item):
            pending.append(arg)
        if not isinstance(item, type) or item in seen:
            continue
        seen.add(item)
        if issubclass(item, msgspec.Struct) or dataclasses.is_dataclass(item):
            pending.extend(typing.get_type_hints(item).values())
    return seen


def _field_names(kinds: set[type]) -> set[str]:
    names: set[str] = set()
    for kind in kinds:
        if issubclass(kind, msgspec.Struct) or dataclasses.is_dataclass(kind):
            names.update(typing.get_type_hints(kind))
    return names


def test_the_features_come_in_the_order_of_feature_names() -> None:
    assert tuple(features()) == FEATURE_NAMES


def test_feature_names_are_unique() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_no_feature_name_speaks_of_anything_known_only_at_exit() -> None:
    leaking = [n for n in FEATURE_NAMES if any(word in n for word in FORBIDDEN)]

    assert leaking == []


def test_nothing_the_feature_function_accepts_can_carry_exit_data() -> None:
    hints = typing.get_type_hints(option_features)
    reachable: set[type] = set()
    for name in inspect.signature(option_features).parameters:
        reachable |= _reachable_types(hints[name])

    assert not reachable & set(EXIT_TYPES)
    assert [n for n in _field_names(reachable) if any(w in n for w in FORBIDDEN)] == []


def test_a_feature_snapshot_survives_the_wire_unchanged() -> None:
    snapshot = features(make_chain(atm_iv=None))
    stamp = ModelStamp(ml_score=0.5, model_version="v", model_hash="h", features=snapshot)

    decoded = msgspec.json.decode(msgspec.json.encode(stamp), type=ModelStamp)

    assert decoded.features == snapshot


def test_moneyness_is_the_log_of_strike_over_forward() -> None:
    value = features(contract=contract(26_300.0))["moneyness"]

    assert value == pytest.approx(math.log(26_300.0 / 26_100.0))


def test_days_and_minutes_to_expiry_count_calendar_time_to_the_expiry_close() -> None:
    minutes = (FACTS.expiry_close_ns(EXPIRY) - TS) / 60e9

    values = features()

    assert values["minutes_to_expiry"] == pytest.approx(minutes)
    assert values["days_to_expiry"] == pytest.approx(minutes / 1_440)


def test_time_of_day_is_minutes_since_the_session_opened() -> None:
    assert features()["minutes_since_open"] == pytest.approx(75.0)


def test_the_entry_greeks_are_the_contract_s_own() -> None:
    chain = make_chain()
    index = chain.snapshot.strikes.index(25_900.0)

    values = features(chain, contract=contract(25_900.0, "PE"))

    assert (values["delta"], values["gamma"], values["is_call"]) == (
        chain.puts.delta[index], chain.puts.gamma[index], 0.0,
    )  # fmt: skip


def test_the_strategy_is_one_hot() -> None:
    values = features(strategy="iron_condor")

    hot = [n for n in FEATURE_NAMES if n.startswith("strategy_") and values[n] == 1.0]

    assert hot == ["strategy_iron_condor"]


def test_a_missing_india_vix_is_filled_and_flagged() -> None:
    values = features()

    assert (values["india_vix"], values["india_vix_known"]) == (0.0, 0.0)


def test_a_missing_atm_iv_is_filled_flagged_and_ranks_neutral() -> None:
    context = FeatureContext(session_open_ns=OPEN_NS, iv_history=(0.1, 0.2))

    values = features(make_chain(atm_iv=None), context)

    assert (values["atm_iv"], values["atm_iv_known"], values["iv_percentile"]) == (0.0, 0.0, 0.5)


def test_open_interest_change_is_relative_to_the_session_s_first_observation() -> None:
    context = FeatureContext(session_open_ns=OPEN_NS, open_interest_reference=800)

    values = features(make_chain(oi=1_000), context)

    assert values["open_interest_change"] == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("current", "window", "expected"),
    [(0.15, (0.10, 0.12, 0.20, 0.30), 0.5), (0.40, (0.1, 0.2), 1.0), (0.05, (0.1, 0.2), 0.0),
     (0.20, (0.1, 0.2, 0.3), 0.5), (0.20, (), 0.5)],
)  # fmt: skip
def test_iv_percentile_ranks_the_current_iv_in_the_window(
    current: float, window: tuple[float, ...], expected: float
) -> None:
    assert iv_percentile(current, window) == pytest.approx(expected)


def test_a_feature_vector_follows_feature_names() -> None:
    values = features()

    assert feature_vector(dict(reversed(values.items()))) == list(values.values())


def test_a_feature_vector_refuses_a_feature_set_of_another_version() -> None:
    values = features()
    values.pop("gamma")

    with pytest.raises(FeatureError, match=r"missing \['gamma'\]"):
        feature_vector(values)


def test_a_contract_outside_the_chain_is_refused() -> None:
    with pytest.raises(FeatureError, match=r"strike 99999\.0"):
        features(contract=contract(99_999.0))


def test_the_session_open_is_found_from_any_instant_of_the_day() -> None:
    assert session_open_ns(TS, FACTS) == OPEN_NS


def test_history_compares_a_chain_with_earlier_chains_only() -> None:
    history = FeatureHistory(FACTS, iv_sample_seconds=60)
    first = make_chain(atm_iv=0.10, event_id="a")
    history.observe_chain(first)
    second = make_chain(ts=TS + 120 * 10**9, atm_iv=0.20, event_id="b")

    context = history.context(second, contract())

    assert tuple(context.iv_history) == (0.10,)


def test_history_samples_the_atm_iv_at_most_once_per_interval() -> None:
    history = FeatureHistory(FACTS, iv_sample_seconds=60)
    for second in range(0, 180, 10):
        history.observe_chain(make_chain(ts=TS + second * 10**9, atm_iv=0.1 + second / 1e4))

    samples = history.context(make_chain(), contract()).iv_history

    assert len(samples) == 3


def test_history_keeps_the_opening_open_interest_of_the_session() -> None:
    history = FeatureHistory(FACTS)
    history.observe_chain(make_chain(oi=500))
    history.observe_chain(make_chain(ts=TS + 10**9, oi=700))

    context = history.context(make_chain(ts=TS + 2 * 10**9, oi=900), contract())

    assert context.open_interest_reference == 500


def test_history_forgets_the_opening_open_interest_of_an_earlier_session() -> None:
    history = FeatureHistory(FACTS)
    history.observe_chain(make_chain(ts=TS - 86_400 * 10**9, oi=500))

    context = history.context(make_chain(), contract())

    assert context.open_interest_reference is None


def test_history_reports_the_latest_india_vix() -> None:
    history = FeatureHistory(FACTS)
    for value in (13.0, 14.5):
        tick = VolatilityIndexTick(event_id="v", ts_event=TS, ts_init=TS, index="INDIAVIX",
                                   value=value)  # fmt: skip
        history.observe_vix(tick)

    assert history.context(make_chain(), contract()).india_vix == 14.5


@settings(max_examples=60, deadline=None)
@given(
    forward=st.floats(20_000.0, 32_000.0),
    vol=st.floats(0.05, 0.8),
    strike=st.sampled_from(STRIKES.tolist()),
    option_type=st.sampled_from(["CE", "PE"]),
    atm_iv=st.none() | st.floats(0.05, 0.8),
    minutes=st.integers(0, 6 * 24 * 60),
)
def test_every_feature_is_finite_for_any_chain(
    forward: float, vol: float, strike: float, option_type: events.OptionType,
    atm_iv: float | None, minutes: int,
) -> None:  # fmt: skip
    chain = make_chain(ts=TS + minutes * 60 * 10**9, forward=forward, vol=vol, atm_iv=atm_iv)

    values = features(chain, contract=contract(strike, option_type))

    assert all(math.isfinite(v) for v in values.values())
