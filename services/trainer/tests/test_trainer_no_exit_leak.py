"""Nothing known only at exit reaches a scoring feature, by name or through the training set."""

from __future__ import annotations

import typing
from datetime import date

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from optbus.events import Contract, MarketContext, ModelStamp, TradeClosed
from optbus.features import FEATURE_NAMES
from optbus.market import load_market_facts
from optbus_trainer.dataset import from_trades

FACTS = load_market_facts()
# 2026-11-03 03:50 UTC = 09:20 IST
ENTRY_NS = 1_793_677_800 * 1_000_000_000
EXIT_ONLY_TRADE_FIELDS = ("exit_price", "exit", "exit_reason", "gross_pnl", "charges", "net_pnl")
"""Fields of ``TradeClosed`` that are only known once the trade is closed."""

ISSUE_FEATURES = (
    "delta", "gamma", "theta", "vega", "iv", "iv_percentile", "moneyness", "days_to_expiry",
    "minutes_to_expiry", "spot", "forward_basis", "india_vix", "pcr_open_interest",
    "open_interest_change", "risk_reversal_25d", "butterfly_25d", "minutes_since_open",
    "signal_strength", "strategy_short_strangle",
)  # fmt: skip
"""The issue's list: entry Greeks, IV and its percentile, moneyness, days and minutes to expiry,
spot, forward basis, India VIX, PCR, OI change, skew, time of day, signal strength, strategy."""


def _context(ts: int, price: float = 100.0) -> MarketContext:
    return MarketContext(ts=ts, option_price=price, iv=0.15, delta=0.5, gamma=0.001, theta=-5.0,
                         vega=10.0, spot=24_000.0, forward=24_010.0, india_vix=14.0, pcr=1.0,
                         open_interest=1_000)  # fmt: skip


def _trade() -> TradeClosed:
    features = {name: float(i) / 7 for i, name in enumerate(FEATURE_NAMES)}
    return TradeClosed(
        event_id="e", ts_event=ENTRY_NS + 3_600 * 10**9, ts_init=0, trade_id="t",
        position_id="p", strategy="short_strangle", group_id="g",
        contract=Contract(underlying="NIFTY", expiry=date(2026, 11, 10), strike=24_000.0,
                          option_type="CE"),
        quantity=-65, entry_price=100.0, exit_price=90.0, entry=_context(ENTRY_NS),
        exit=_context(ENTRY_NS + 3_600 * 10**9, 90.0),
        model=ModelStamp(ml_score=0.5, model_version="v", model_hash="h", features=features),
        exit_reason="target", gross_pnl=690.0, charges=40.0, net_pnl=650.0,
    )  # fmt: skip


_floats = st.floats(-1e6, 1e6, allow_nan=False)
_optional = st.none() | _floats
_exit_contexts = st.builds(
    MarketContext, ts=st.integers(ENTRY_NS, ENTRY_NS + 10 * 86_400 * 10**9),
    option_price=_floats, iv=_optional, delta=_optional, gamma=_optional, theta=_optional,
    vega=_optional, spot=_floats, forward=_floats, india_vix=_optional, pcr=_optional,
    open_interest=st.integers(0, 10**9),
)  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(
    exit_context=_exit_contexts, exit_price=_floats, exit_reason=st.text(max_size=20),
    gross_pnl=_floats, charges=_floats, net_pnl=_floats,
)  # fmt: skip
def test_the_feature_row_of_a_trade_ignores_every_exit_side_field(
    exit_context: MarketContext, exit_price: float, exit_reason: str, gross_pnl: float,
    charges: float, net_pnl: float,
) -> None:  # fmt: skip
    trade = _trade()
    altered = msgspec.structs.replace(
        trade, exit=exit_context, exit_price=exit_price, exit_reason=exit_reason,
        gross_pnl=gross_pnl, charges=charges, net_pnl=net_pnl,
    )  # fmt: skip

    original_set, altered_set = from_trades([trade], FACTS), from_trades([altered], FACTS)

    assert altered_set.x.tolist() == original_set.x.tolist()
    assert altered_set.day.tolist() == original_set.day.tolist()


def test_the_exit_only_fields_are_all_the_trade_has_beyond_its_entry() -> None:
    entry_side = {"contract", "quantity", "entry_price", "entry", "model", "strategy",
                  "position_id", "group_id", "trade_id", "schema_version", "event_id",
                  "ts_event", "ts_init"}  # fmt: skip

    assert set(typing.get_type_hints(TradeClosed)) - entry_side == set(EXIT_ONLY_TRADE_FIELDS)


def test_no_feature_is_named_after_an_exit_side_field() -> None:
    exit_names = set(EXIT_ONLY_TRADE_FIELDS) | {
        f"exit_{field}" for field in typing.get_type_hints(MarketContext)
    }

    assert [name for name in FEATURE_NAMES if name in exit_names or "exit" in name] == []


def test_the_features_cover_the_issue_s_list() -> None:
    assert [name for name in ISSUE_FEATURES if name not in FEATURE_NAMES] == []
