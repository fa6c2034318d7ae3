"""The market book: latest quote per contract, freshness, and the market context it builds."""

from __future__ import annotations

from datetime import date

from execution_fixtures import CALL, FACTS, PUT, SECOND, T0, chain, vix

from optbus.events import futures_contract
from optbus_execution.book import MarketBook


def _book() -> MarketBook:
    return MarketBook(max_quote_age_ns=5 * SECOND)


def test_a_quote_is_fresh_up_to_the_age_limit() -> None:
    book = _book()
    book.on_chain(chain(T0))

    assert book.is_fresh(CALL, T0 + 5 * SECOND)


def test_a_quote_older_than_the_age_limit_is_stale() -> None:
    book = _book()
    book.on_chain(chain(T0))

    assert not book.is_fresh(CALL, T0 + 5 * SECOND + 1)


def test_a_contract_never_quoted_has_no_quote_and_is_not_fresh() -> None:
    book = _book()

    assert (book.quote(CALL), book.is_fresh(CALL, T0)) == (None, False)


def test_the_latest_chain_replaces_the_quote() -> None:
    book = _book()
    book.on_chain(chain(T0, bid=100.0, ask=100.5))
    book.on_chain(chain(T0 + SECOND, bid=110.0, ask=110.5))

    quote = book.quote(CALL)

    assert quote is not None
    assert (quote.ts, quote.bid, quote.ask) == (T0 + SECOND, 110.0, 110.5)


def test_an_older_chain_delivered_late_does_not_replace_a_newer_one() -> None:
    book = _book()
    book.on_chain(chain(T0 + SECOND, bid=110.0))
    book.on_chain(chain(T0, bid=100.0))

    quote = book.quote(CALL)

    assert quote is not None
    assert quote.bid == 110.0


def test_a_put_reads_the_put_side_of_the_chain() -> None:
    book = _book()
    book.on_chain(chain(T0))

    quote = book.quote(PUT)

    assert quote is not None
    assert quote.delta == -0.5


def test_the_context_carries_greeks_spot_forward_vix_pcr_and_open_interest() -> None:
    book = _book()
    book.on_chain(chain(T0, bid=120.0, ask=120.5, spot=26_050.0))
    book.on_vix(vix(T0, 13.5))

    context = book.context(CALL, T0)

    assert context is not None
    assert (context.ts, context.option_price, context.iv, context.delta, context.gamma) == (
        T0, 120.25, 0.14, 0.5, 0.0012,
    )  # fmt: skip
    assert (context.theta, context.vega, context.spot, context.forward) == (
        -11.0, 14.0, 26_050.0, 26_085.0,
    )  # fmt: skip
    assert (context.india_vix, context.pcr, context.open_interest) == (13.5, 0.9, 50_000)


def test_a_tick_of_another_volatility_index_is_ignored() -> None:
    book = _book()
    book.on_vix(vix(T0, 13.5))
    book.on_vix(vix(T0 + 1, 20.0, index="OTHERVIX"))

    assert book.india_vix == 13.5


def test_market_time_is_the_latest_source_time_seen() -> None:
    book = _book()
    book.on_chain(chain(T0))
    book.on_vix(vix(T0 + SECOND))

    assert book.market_time_ns == T0 + SECOND


def _futures_book() -> MarketBook:
    return MarketBook(max_quote_age_ns=5 * SECOND, futures_expiry=FACTS.futures_expiry)


DECEMBER_FUTURE = futures_contract("NIFTY", date(2026, 12, 29))


def test_a_weekly_chain_quotes_its_month_s_future_at_the_futures_price() -> None:
    book = _futures_book()
    book.on_chain(chain(T0, spot=26_050.0))  # the 2026-12-08 weekly chain

    quote = book.quote(DECEMBER_FUTURE)

    assert quote is not None
    assert (quote.bid, quote.ask, quote.last, quote.delta) == (26_090.0, 26_090.0, 26_090.0, 1.0)


def test_a_future_is_as_fresh_as_the_latest_chain_carrying_its_price() -> None:
    book = _futures_book()
    book.on_chain(chain(T0, expiry=date(2026, 12, 29)))
    book.on_chain(chain(T0 + 60 * SECOND, spot=26_100.0))  # the weekly chain, a minute later

    quote = book.quote(DECEMBER_FUTURE)
    assert book.is_fresh(DECEMBER_FUTURE, T0 + 61 * SECOND)
    assert quote is not None
    assert quote.bid == 26_140.0


def test_a_future_of_another_month_has_no_quote() -> None:
    book = _futures_book()
    book.on_chain(chain(T0))

    assert book.quote(futures_contract("NIFTY", date(2027, 1, 26))) is None
