from dataclasses import replace
from datetime import date

from optbus.events import (
    ChainAggregates,
    ChainGreeks,
    ChainSide,
    Contract,
    OptionChainSnapshot,
    SideGreeks,
    futures_contract,
)
from optbus.quotes import OptionQuote, quote_in_chain, strike_index

CONTRACT = Contract(underlying="NIFTY", expiry=date(2026, 12, 8), strike=26_000.0, option_type="CE")
QUOTE = OptionQuote(
    contract=CONTRACT, ts=1, bid=100.0, ask=101.0, bid_size=65, ask_size=130, last=100.5,
    iv=0.14, delta=0.5, gamma=0.001, theta=-9.0, vega=12.0, spot=26_000.0, forward=26_040.0,
    rate=0.065, time_to_expiry=0.02, pcr=0.9, open_interest=1_000,
)  # fmt: skip


def test_a_two_sided_quote_is_marked_at_its_mid() -> None:
    assert QUOTE.mark == 100.5


def test_a_quote_without_an_ask_is_marked_at_its_last_price() -> None:
    assert replace(QUOTE, ask=0.0, ask_size=0, last=99.0).mark == 99.0


def test_a_one_sided_quote_has_the_side_there_is_as_its_indicative_price() -> None:
    assert replace(QUOTE, ask=0.0, ask_size=0).indicative_price == 100.0


def test_a_strike_the_chain_does_not_list_has_no_index() -> None:
    assert strike_index([25_950.0, 26_000.0], 26_050.0) is None


def test_a_listed_strike_is_found_despite_float_noise() -> None:
    assert strike_index([25_950.0, 26_000.0000000001], 26_000.0) == 1


def _one_strike_chain(futures: float) -> ChainGreeks:
    side = ChainSide(bid=[100.0], ask=[101.0], last=[100.5], bid_size=[65], ask_size=[65],
                     volume=[10], open_interest=[100])  # fmt: skip
    greeks = SideGreeks(iv=[0.14], delta=[0.5], gamma=[0.001], theta=[-9.0], vega=[12.0],
                        rho=[3.0], iv_status=["ok"])  # fmt: skip
    snapshot = OptionChainSnapshot(
        event_id="s", ts_event=1, ts_init=1, underlying="NIFTY", expiry=date(2026, 12, 29),
        spot=26_050.0, futures=futures, lot_size=65, strikes=[26_000.0], calls=side, puts=side,
    )  # fmt: skip
    return ChainGreeks(
        event_id="g", ts_event=1, ts_init=1, source_event_id="s", snapshot=snapshot,
        model="black76", forward=26_085.0, rate=0.065, time_to_expiry=0.02, calls=greeks,
        puts=greeks, aggregates=ChainAggregates(
            atm_iv=0.14, risk_reversal_25d=None, butterfly_25d=None, pcr_open_interest=1.0,
            pcr_volume=1.0, max_pain=26_000.0,
        ),
    )  # fmt: skip


def test_a_future_is_quoted_at_its_chain_s_futures_price_with_delta_1() -> None:
    chain = _one_strike_chain(futures=26_090.0)
    future = futures_contract("NIFTY", chain.snapshot.expiry)

    quote = quote_in_chain(chain, future)

    assert quote is not None
    assert (quote.bid, quote.ask, quote.mark, quote.delta, quote.gamma) == (
        26_090.0, 26_090.0, 26_090.0, 1.0, 0.0,
    )  # fmt: skip


def test_a_chain_without_a_futures_price_quotes_no_future() -> None:
    chain = _one_strike_chain(futures=0.0)

    assert quote_in_chain(chain, futures_contract("NIFTY", date(2026, 12, 29))) is None
