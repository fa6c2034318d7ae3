from datetime import date

import msgspec
import numpy as np
import pytest

from optbus.clock import ReplayClock
from optbus.events import ChainSide, OptionChainSnapshot
from optbus.ids import derived_event_id
from optbus.market import load_market_facts
from optbus.pricing import black76_price, time_to_expiry_years
from optbus_greeks.domain import NO_QUOTE, STALE, GreeksConfig, enrich_chain

FACTS = load_market_facts()
EXPIRY = date(2026, 12, 8)
TS = FACTS.session_open_ns(date(2026, 12, 2)) + 3_600 * 10**9
RATE = 0.065
FORWARD = 26_120.0
VOL = 0.14
STRIKES = np.arange(25_500.0, 26_750.0, 50.0)


def _side(prices: np.ndarray) -> ChainSide:
    n = len(prices)
    return ChainSide(
        bid=prices.tolist(), ask=prices.tolist(), last=prices.tolist(), bid_size=[65] * n,
        ask_size=[65] * n, volume=[100 * (i + 1) for i in range(n)], open_interest=[1000] * n,
    )  # fmt: skip


def _snapshot(call_prices: np.ndarray, put_prices: np.ndarray) -> OptionChainSnapshot:
    return OptionChainSnapshot(
        event_id="snap", ts_event=TS, ts_init=TS, underlying="NIFTY", expiry=EXPIRY,
        spot=26_080.0, futures=26_125.0, lot_size=65, strikes=STRIKES.tolist(),
        calls=_side(call_prices), puts=_side(put_prices),
    )  # fmt: skip


def _model_prices() -> tuple[np.ndarray, np.ndarray]:
    t = time_to_expiry_years(TS, FACTS.expiry_close_ns(EXPIRY))
    calls = black76_price(True, FORWARD, STRIKES, t, RATE, VOL)
    puts = black76_price(False, FORWARD, STRIKES, t, RATE, VOL)
    return np.asarray(calls), np.asarray(puts)


CONFIG = GreeksConfig(rate_at=lambda _ts: RATE, expiry_close_ns=FACTS.expiry_close_ns)


def test_the_forward_is_read_off_put_call_parity() -> None:
    chain = enrich_chain(_snapshot(*_model_prices()), CONFIG, ReplayClock(TS))

    assert chain.forward == pytest.approx(FORWARD, rel=1e-10)


def test_implied_volatilities_recover_the_volatility_that_priced_the_chain() -> None:
    chain = enrich_chain(_snapshot(*_model_prices()), CONFIG, ReplayClock(TS))

    assert np.allclose(chain.calls.iv, VOL, atol=1e-9)
    assert np.allclose(chain.puts.iv, VOL, atol=1e-9)


def test_a_call_and_a_put_at_the_same_strike_have_deltas_one_discount_factor_apart() -> None:
    chain = enrich_chain(_snapshot(*_model_prices()), CONFIG, ReplayClock(TS))
    discount = np.exp(-RATE * chain.time_to_expiry)

    differences = np.asarray(chain.calls.delta) - np.asarray(chain.puts.delta)

    assert np.allclose(differences, discount, atol=1e-9)


def test_an_option_without_a_two_sided_quote_has_no_iv_and_says_why() -> None:
    calls, puts = _model_prices()
    calls[0] = 0.0

    chain = enrich_chain(_snapshot(calls, puts), CONFIG, ReplayClock(TS))

    assert (chain.calls.iv[0], chain.calls.iv_status[0]) == (None, NO_QUOTE)


def test_a_quote_the_feed_marked_stale_has_no_iv_and_says_it_was_stale() -> None:
    calls, puts = _model_prices()
    calls[3] = 0.0  # a feed blanks a stale quote's touch and marks it
    snapshot = _snapshot(calls, puts)
    marks = [index == 3 for index in range(len(STRIKES))]
    marked = msgspec.structs.replace(
        snapshot, schema_version=2, calls=msgspec.structs.replace(snapshot.calls, stale=marks)
    )

    chain = enrich_chain(marked, CONFIG, ReplayClock(TS))

    assert (chain.calls.iv[3], chain.calls.iv_status[3], chain.puts.iv_status[3]) == (
        None, STALE, "ok",
    )  # fmt: skip


def test_the_atm_iv_aggregate_is_the_chain_volatility() -> None:
    chain = enrich_chain(_snapshot(*_model_prices()), CONFIG, ReplayClock(TS))

    assert chain.aggregates.atm_iv == pytest.approx(VOL, abs=1e-9)


def test_the_enriched_chain_id_is_derived_from_the_snapshot_it_priced() -> None:
    chain = enrich_chain(_snapshot(*_model_prices()), CONFIG, ReplayClock(TS))

    assert (chain.event_id, chain.source_event_id) == (derived_event_id("snap", "greeks"), "snap")


def test_without_any_parity_pair_the_forward_falls_back_to_the_futures_price() -> None:
    calls, puts = _model_prices()
    puts[:] = 0.0

    chain = enrich_chain(_snapshot(calls, puts), CONFIG, ReplayClock(TS))

    assert chain.forward == 26_125.0
